"""Pages of the studio (included at the site root)."""

from django.urls import path

from generation.learning import learn_index, learn_topic
from generation.views import studio_view

app_name = "generation"

urlpatterns = [
    path("studio/", studio_view, name="studio"),
    path("learn/", learn_index, name="learn"),
    path("learn/<slug:topic>/", learn_topic, name="learn-topic"),
]
