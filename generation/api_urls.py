"""API routes of the studio (included under /api/)."""

from django.urls import path

from generation.api.trainings import (
    CheckpointDetailApi,
    CheckpointSubmitApi,
    TrainingCancelApi,
    TrainingDetailApi,
    TrainingListCreateApi,
    TrainingOptionsApi,
)
from generation.api.views import (
    CheckpointListCreateApi,
    GenerateApi,
    JobDetailApi,
    JobListApi,
    JobNotesApi,
    ModelCatalogApi,
    NotesFromMidiApi,
    NotesToMidiApi,
    SaveApi,
)

app_name = "generation-api"

urlpatterns = [
    path("generate/", GenerateApi.as_view(), name="generate"),
    path("jobs/", JobListApi.as_view(), name="jobs"),
    path("jobs/<int:job_id>/", JobDetailApi.as_view(), name="job"),
    path("jobs/<int:job_id>/notes/", JobNotesApi.as_view(), name="job-notes"),
    path("studio/models/", ModelCatalogApi.as_view(), name="studio-models"),
    path("studio/notes/", NotesFromMidiApi.as_view(), name="studio-notes"),
    path("studio/midi/", NotesToMidiApi.as_view(), name="studio-midi"),
    path("studio/save/", SaveApi.as_view(), name="studio-save"),
    path("models/", CheckpointListCreateApi.as_view(), name="models"),
    path("models/<int:checkpoint_id>/", CheckpointDetailApi.as_view(), name="model"),
    path("models/<int:checkpoint_id>/submit/", CheckpointSubmitApi.as_view(), name="model-submit"),
    path("trainings/", TrainingListCreateApi.as_view(), name="trainings"),
    path("trainings/options/", TrainingOptionsApi.as_view(), name="training-options"),
    path("trainings/<int:job_id>/", TrainingDetailApi.as_view(), name="training"),
    path("trainings/<int:job_id>/cancel/", TrainingCancelApi.as_view(), name="training-cancel"),
]
