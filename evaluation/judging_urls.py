"""Judging pages, included under /judging/ by chartbusters/urls.py."""

from django.urls import path

from evaluation.api.judging import ReviewFileApi
from evaluation.views.judging import judge_assignment_page, judge_queue_view, judging_overview_view

app_name = "judging"

urlpatterns = [
    path("", judge_queue_view, name="queue"),
    path("assignments/<int:assignment_id>/", judge_assignment_page, name="assignment"),
    path("assignments/<int:assignment_id>/files/<slug:name>/", ReviewFileApi.as_view(), name="review-file"),
    path("<slug:slug>/", judging_overview_view, name="overview"),
]
