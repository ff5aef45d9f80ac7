"""Pages of the studio (included at the site root)."""

from django.urls import path

from generation import training_views
from generation.learning import learn_index, learn_topic
from generation.views import studio_view

app_name = "generation"

urlpatterns = [
    path("studio/", studio_view, name="studio"),
    path("train/", training_views.train_view, name="train"),
    path("train/<int:job_id>/", training_views.training_view, name="training"),
    path("models/", training_views.models_view, name="models"),
    path("models/<int:checkpoint_id>/submit/", training_views.model_submit_view, name="model-submit"),
    path("models/<int:checkpoint_id>/delete/", training_views.model_delete_view, name="model-delete"),
    path("learn/", learn_index, name="learn"),
    path("learn/<slug:topic>/", learn_topic, name="learn-topic"),
]
