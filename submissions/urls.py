"""Pages of the submissions app (included at the site root)."""

from django.urls import path

from submissions.views import composition_list_view, submission_create_view

app_name = "submissions"

urlpatterns = [
    path("challenges/<slug:slug>/submit/", submission_create_view, name="create"),
    path("compositions/", composition_list_view, name="compositions"),
]
