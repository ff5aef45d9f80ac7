"""Judging pages, included under /judging/ by chartbusters/urls.py."""

from django.urls import path

from evaluation.views.judging import judge_assignment_page, judge_queue_view, judging_overview_view

app_name = "judging"

urlpatterns = [
    path("", judge_queue_view, name="queue"),
    path("assignments/<int:assignment_id>/", judge_assignment_page, name="assignment"),
    path("<slug:slug>/", judging_overview_view, name="overview"),
]
