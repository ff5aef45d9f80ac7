"""API routes of the submissions app (included under /api/)."""

from django.urls import path

from submissions.api.views import SubmissionCreateApi

app_name = "submissions-api"

urlpatterns = [
    path("challenges/<slug:slug>/submissions/", SubmissionCreateApi.as_view(), name="create"),
]
