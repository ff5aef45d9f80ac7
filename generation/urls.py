"""Pages of the studio (included at the site root)."""

from django.urls import path

from generation.views import studio_view

app_name = "generation"

urlpatterns = [
    path("studio/", studio_view, name="studio"),
]
