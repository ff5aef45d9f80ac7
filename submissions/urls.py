"""Pages of the submissions app (included at the site root)."""

from django.urls import path

from submissions.views import (
    composition_delete_view,
    composition_list_view,
    composition_rename_view,
    composition_submit_view,
    submission_create_view,
)

app_name = "submissions"

urlpatterns = [
    path("challenges/<slug:slug>/submit/", submission_create_view, name="create"),
    path("compositions/", composition_list_view, name="compositions"),
    path("compositions/<int:pk>/rename/", composition_rename_view, name="composition-rename"),
    path("compositions/<int:pk>/delete/", composition_delete_view, name="composition-delete"),
    path("compositions/<int:pk>/submit/", composition_submit_view, name="composition-submit"),
]
