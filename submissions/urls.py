"""Pages of the submissions app (included at the site root)."""

from django.urls import path

from submissions.views import submission_create_view

app_name = "submissions"

urlpatterns = [
    path("challenges/<slug:slug>/submit/", submission_create_view, name="create"),
]
