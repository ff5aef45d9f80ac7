"""Judging API routes, included under /api/judging/ by chartbusters/urls.py."""

from django.urls import path

from evaluation.api.judging import AssignmentDetailApi, AssignmentListApi, AssignmentScoreApi

app_name = "judging-api"

urlpatterns = [
    path("assignments/", AssignmentListApi.as_view(), name="assignment-list"),
    path("assignments/<int:assignment_id>/", AssignmentDetailApi.as_view(), name="assignment-detail"),
    path("assignments/<int:assignment_id>/score/", AssignmentScoreApi.as_view(), name="assignment-score"),
]
