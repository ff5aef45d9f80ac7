"""The API of training in the browser and of a user's models (docs/design.md §7; thin views over generation.services
and generation.selectors):

- ``POST /api/trainings/`` (multipart: ``model``, ``files`` (MIDI files, or one zip) or ``dataset=chorales``,
  ``params`` (JSON text: the model's TRAIN_PARAMS), optional ``name``) -> 202 ``{"id", "status", "files"}``
- ``GET /api/trainings/`` your runs; ``GET /api/trainings/{id}/`` -> ``{"id", "status", "progress", "error",
  "metrics": {"step": [...], "train_loss": [...], "valid_loss": [...], ...}, "checkpoint", "seconds_left", ...}``
- ``POST /api/trainings/{id}/cancel/``; ``GET /api/trainings/options/`` the models you can train and their parameters
- ``GET /api/models/`` (views.py) your models; ``DELETE /api/models/{id}/``; ``POST /api/models/{id}/submit/``
  (``challenge`` slug, ``title``, ``licence_accepted``) enters one in an open Melody Harvest challenge.

Errors: ``{"error": {"code", "message"}}``; 429 carries ``Retry-After``. A run or model that is not yours: 404.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.ratelimit import rate_limit_request
from generation.api.views import JsonTextField, params_from_json
from generation.selectors import trainable_catalog, training_body, training_get_for_user, training_list_own
from generation.services.studio import user_checkpoint_delete, user_checkpoint_submit
from generation.services.training import training_cancel, training_create

TRAINING_NOT_FOUND_MESSAGE = "There is no such training run of yours."


class TrainingSerializer(serializers.Serializer):
    """The schema of a run's body (built by ``training_body``)."""

    id = serializers.IntegerField()
    status = serializers.CharField(help_text="queued, running, done, failed or cancelled")
    progress = serializers.IntegerField(min_value=0, max_value=100)
    error = serializers.CharField(allow_blank=True)
    model = serializers.CharField()
    name = serializers.CharField()
    params = serializers.DictField()
    dataset = serializers.CharField(help_text="upload or chorales")
    files = serializers.DictField(help_text='{"used": [names], "refused": [{"name", "error"}]}')
    steps_done = serializers.IntegerField()
    steps_total = serializers.IntegerField()
    cancel_requested = serializers.BooleanField()
    seconds_left = serializers.FloatField(allow_null=True, help_text="At the rate so far; null when not running.")
    waiting_for = serializers.CharField(allow_blank=True, help_text="While queued, what the run waits for (the "
                                                                    "users' runs ahead of it); empty once it runs.")
    metrics = serializers.DictField(help_text='{"step": [...], "train_loss": [...], "valid_loss": [...], ...}: '
                                              "one list per curve, null where a curve has no point at that step")
    checkpoint = serializers.IntegerField(allow_null=True, help_text="The new model's id (GET /api/models/), usable "
                                                                     "as `checkpoint` in POST /api/generate/")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


def _own_run(request: Request, job_id: int):
    job = training_get_for_user(user=request.user, job_id=job_id)
    if job is None:
        raise ApiError("not_found", TRAINING_NOT_FOUND_MESSAGE, status=status.HTTP_404_NOT_FOUND)
    return job


class TrainingListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(max_length=40, help_text="A model you can train: GET /api/trainings/options/.")
        files = serializers.ListField(child=serializers.FileField(), required=False,
                                      help_text="MIDI files to learn from (several, or one zip of them).")
        dataset = serializers.CharField(required=False, max_length=20, help_text="Or `chorales`: the Bach chorales.")
        params = JsonTextField(required=False, help_text="Training parameters as a JSON object (TRAIN_PARAMS).")
        name = serializers.CharField(required=False, max_length=200, allow_blank=True,
                                     help_text="The name your model will have.")

    class CreatedSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        files = serializers.DictField()

    class ListSerializer(serializers.Serializer):
        results = TrainingSerializer(many=True)

    @extend_schema(operation_id="trainings_list", responses={200: ListSerializer})
    def get(self, request: Request) -> Response:
        return Response({"results": [training_body(job) for job in training_list_own(owner=request.user)]})

    @extend_schema(operation_id="trainings_create", request={"multipart/form-data": InputSerializer},
                   responses={202: CreatedSerializer})
    def post(self, request: Request) -> Response:
        rate_limit_request(request, scope="upload")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        job = training_create(owner=request.user, model_name=fields["model"],
                              params=params_from_json(fields.get("params")), files=fields.get("files"),
                              dataset=fields.get("dataset") or None, name=fields.get("name") or "")
        return Response({"id": job.pk, "status": job.status, "files": job.files}, status=status.HTTP_202_ACCEPTED)


class TrainingDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="trainings_retrieve", responses={200: TrainingSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        return Response(training_body(_own_run(request, job_id)))


class TrainingCancelApi(APIView):
    permission_classes = [IsAuthenticated]
    error_statuses = {"POST": (400, 401, 403, 404, 409, 429)}  # 409: the run has already ended

    @extend_schema(operation_id="trainings_cancel", request=None, responses={202: TrainingSerializer})
    def post(self, request: Request, job_id: int) -> Response:
        _own_run(request, job_id)
        job = training_cancel(owner=request.user, job_id=job_id)
        return Response(training_body(job), status=status.HTTP_202_ACCEPTED)


class TrainingOptionsApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        models = serializers.ListField(child=serializers.DictField(), help_text="{name, description, params}")

    @extend_schema(operation_id="trainings_options", responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        return Response({"models": trainable_catalog()})


class CheckpointDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="models_destroy", responses={204: None})
    def delete(self, request: Request, checkpoint_id: int) -> Response:
        user_checkpoint_delete(owner=request.user, checkpoint_id=checkpoint_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CheckpointSubmitApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        challenge = serializers.SlugField(help_text="An open Melody Harvest challenge's slug.")
        title = serializers.CharField(required=False, allow_blank=True, max_length=200,
                                      help_text="The entry's title (default: the model's name).")
        licence_accepted = serializers.BooleanField(help_text="You accept the challenge's entry licence.")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        challenge = serializers.CharField()
        status = serializers.CharField()

    @extend_schema(operation_id="models_submit", request={"multipart/form-data": InputSerializer},
                   responses={201: OutputSerializer})
    def post(self, request: Request, checkpoint_id: int) -> Response:
        rate_limit_request(request, scope="upload")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        submission = user_checkpoint_submit(owner=request.user, checkpoint_id=checkpoint_id,
                                            challenge_slug=fields["challenge"], title=fields.get("title", ""),
                                            licence_accepted=fields["licence_accepted"])
        return Response({"id": submission.pk, "challenge": submission.challenge.slug, "status": submission.status},
                        status=status.HTTP_201_CREATED)
