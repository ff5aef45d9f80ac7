"""The studio's API (docs/design.md section 7): thin views over generation.services and generation.selectors.

- ``POST /api/generate/`` (multipart: ``model``, ``input`` (MIDI) or ``notes`` (JSON text) or ``parent`` (a job id),
  ``params`` (JSON text), optional ``checkpoint`` (one of your models, ``GET /api/models/``), ``variations`` 1-4,
  ``key`` (one of the 24 keys, e.g. "D major"; empty: from the music))
  -> 202 ``{"id", "status", "batch", "jobs": [{"id", "status", "variation", "seed"}]}``
- ``GET /api/jobs/{id}/`` -> ``{"id", "status", "progress", "error", "output_midi_url", "audio_url", ...}``
- ``GET /api/jobs/{id}/notes/`` -> the input's and the result's notes for the piano roll
- ``GET /api/jobs/`` your recent jobs; ``POST /api/studio/save/`` a version or the edited piano roll as a composition
- ``POST /api/studio/notes/`` a MIDI file -> notes; ``GET /api/studio/models/`` the registry's generators
- ``GET /api/models/`` / ``POST /api/models/`` your own checkpoints

Errors: ``{"error": {"code", "message"}}``; 429 carries ``Retry-After``. A job that is not yours: 404.
"""

from __future__ import annotations

import json
import re

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.ratelimit import rate_limit_request
from generation.engine.errors import MidiValidationError
from generation.engine.midi_io import load_midi
from generation.models import GenerationJob
from generation.notes import NotesError, midi_to_notes, notes_to_midi_bytes
from generation.selectors import (
    checkpoint_list_own,
    checkpoint_urls,
    job_get_for_user,
    job_list_own,
    job_urls,
    model_catalog,
    sample_bytes,
)
from generation.services.jobs import MAX_VARIATIONS, input_bytes, job_create
from generation.services.studio import studio_save, user_checkpoint_create

JOB_NOT_FOUND_MESSAGE = "There is no such generation of yours."
SAMPLE_NOT_FOUND_MESSAGE = "There is no such sample melody."
PARAMS_NOT_JSON_MESSAGE = "`params` must be a JSON object, e.g. {\"temperature\": 1.5}."


@extend_schema_field(OpenApiTypes.STR)
class JsonTextField(serializers.Field):
    """A JSON value sent as a text field (multipart) and passed on as text: the service parses and checks it."""

    default_error_messages = {"invalid": "Send JSON text."}

    def to_internal_value(self, data):
        if isinstance(data, str):
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


def params_from_json(text: str | None) -> dict:
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise ApiError("invalid_params", PARAMS_NOT_JSON_MESSAGE, status=400)
    return value


class JobSerializer(serializers.Serializer):
    """The schema of a job's body (built by ``job_body``)."""

    id = serializers.IntegerField()
    status = serializers.CharField(help_text="queued, running, done or failed")
    progress = serializers.IntegerField(min_value=0, max_value=100)
    error = serializers.CharField(allow_blank=True)
    output_midi_url = serializers.CharField(allow_null=True)
    audio_url = serializers.CharField(allow_null=True)
    input_midi_url = serializers.CharField(allow_null=True)
    notes_url = serializers.CharField()
    model = serializers.CharField()
    checkpoint = serializers.IntegerField(allow_null=True)
    params = serializers.DictField()
    seed = serializers.IntegerField()
    variation = serializers.IntegerField()
    batch = serializers.UUIDField()
    parent = serializers.IntegerField(allow_null=True)
    saved = serializers.BooleanField()
    seconds = serializers.FloatField()
    adjustments = serializers.ListField(child=serializers.CharField(),
                                        help_text="What the engine changed in the input, in sentences.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def job_body(job: GenerationJob) -> dict:
    return {
        "id": job.pk, "status": job.status, "progress": job.progress, "error": job.error,
        **job_urls(job),
        "notes_url": reverse("generation-api:job-notes", kwargs={"job_id": job.pk}),
        "model": job.model_name, "checkpoint": job.checkpoint_id, "params": job.params, "seed": job.seed,
        "variation": job.variation, "batch": str(job.batch), "parent": job.parent_id, "saved": job.saved,
        "seconds": job.seconds, "adjustments": job.adjustments, "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


class JobRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    variation = serializers.IntegerField()
    seed = serializers.IntegerField()


class GenerateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(max_length=40, help_text="A registered generator: GET /api/studio/models/.")
        input = serializers.FileField(required=False, help_text="The MIDI to work on.")
        notes = JsonTextField(required=False, help_text="Or the piano roll's notes (JSON, see docs/api.md).")
        parent = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                          help_text="Or a job of yours whose result to work on (chaining).")
        params = JsonTextField(required=False, help_text="The model's parameters as a JSON object.")
        checkpoint = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1,
                                              help_text="One of your own models (GET /api/models/).")
        variations = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VARIATIONS, default=1)
        key = serializers.CharField(required=False, allow_blank=True, max_length=20, help_text=(
            "Run in this key, e.g. \"D major\", \"Bb minor\" (the input gets it as its key signature, which every "
            "model reads); empty or absent: the input's own key signature, else the key estimated from its notes."))

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()
        batch = serializers.UUIDField()
        jobs = JobRefSerializer(many=True, help_text="One job per variation (the first is `id`).")

    @extend_schema(operation_id="generate_create", request={"multipart/form-data": InputSerializer},
                   responses={202: OutputSerializer})
    def post(self, request: Request) -> Response:
        rate_limit_request(request, scope="generate")  # 429 + Retry-After (RATE_LIMIT_GENERATE)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        jobs = job_create(
            key=fields.get("key") or None,
            owner=request.user, model_name=fields["model"], params=params_from_json(fields.get("params")),
            input_midi=fields.get("input"), notes=fields.get("notes"), parent_id=fields.get("parent"),
            checkpoint_id=fields.get("checkpoint"), variations=fields["variations"],
        )
        first = jobs[0]
        body = {"id": first.pk, "status": first.status, "batch": str(first.batch),
                "jobs": [{"id": j.pk, "status": j.status, "variation": j.variation, "seed": j.seed} for j in jobs]}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class JobDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="jobs_retrieve", responses={200: JobSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        job = job_get_for_user(user=request.user, job_id=job_id)
        if job is None:
            raise ApiError("not_found", JOB_NOT_FOUND_MESSAGE, status=status.HTTP_404_NOT_FOUND)
        return Response(job_body(job))


class JobListApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        results = JobSerializer(many=True)

    @extend_schema(operation_id="jobs_list", responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        return Response({"results": [job_body(job) for job in job_list_own(owner=request.user)]})


class NotesSerializer(serializers.Serializer):
    tempo = serializers.FloatField()
    time_signature = serializers.ListField(child=serializers.IntegerField())
    key = serializers.CharField(allow_null=True, help_text="The key signature, e.g. \"D major\"; null: none stated.")
    tracks = serializers.ListField(child=serializers.DictField())


def _notes_of(field_file) -> dict | None:
    if not field_file:
        return None
    try:
        with field_file.open("rb") as fh:
            return midi_to_notes(load_midi(fh.read()))
    except (FileNotFoundError, MidiValidationError):
        return None


class JobNotesApi(APIView):
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        input = NotesSerializer(allow_null=True)
        output = NotesSerializer(allow_null=True)

    @extend_schema(operation_id="jobs_notes", responses={200: OutputSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        job = job_get_for_user(user=request.user, job_id=job_id)
        if job is None:
            raise ApiError("not_found", JOB_NOT_FOUND_MESSAGE, status=status.HTTP_404_NOT_FOUND)
        return Response({"input": _notes_of(job.input_midi), "output": _notes_of(job.output_midi)})


class NotesFromMidiApi(APIView):
    """A MIDI file (an upload, or a shipped sample by ``sample``) as the piano roll's notes; nothing is stored."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    error_statuses = {"POST": (400, 401, 403, 413, 415, 422, 429)}

    class InputSerializer(serializers.Serializer):
        input = serializers.FileField(required=False)
        sample = serializers.SlugField(required=False, max_length=60)

    @extend_schema(operation_id="studio_notes", request={"multipart/form-data": InputSerializer},
                   responses={200: NotesSerializer})
    def post(self, request: Request) -> Response:
        rate_limit_request(request, scope="upload")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if "sample" in fields:
            raw = sample_bytes(fields["sample"])
            if raw is None:
                raise ApiError("sample_not_found", SAMPLE_NOT_FOUND_MESSAGE, status=status.HTTP_400_BAD_REQUEST)
        else:
            raw = input_bytes(owner=request.user, input_midi=fields.get("input"))
        return Response(midi_to_notes(load_midi(raw)))


class NotesToMidiApi(APIView):
    """The piano roll's notes as a MIDI file (a version of the studio that no job wrote: your melody, an edit, only
    some bars regenerated); nothing is stored."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    error_statuses = {"POST": (400, 401, 403, 413, 415)}

    class InputSerializer(serializers.Serializer):
        notes = JsonTextField(help_text="The piano roll's notes (JSON).")
        title = serializers.CharField(required=False, max_length=80, help_text="Names the downloaded file.")

    @extend_schema(operation_id="studio_midi", request={"multipart/form-data": InputSerializer},
                   responses={(200, "audio/midi"): OpenApiTypes.BINARY})
    def post(self, request: Request) -> HttpResponse:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            midi = notes_to_midi_bytes(data.validated_data["notes"])
        except NotesError as exc:
            raise ApiError(exc.code, exc.message, status=status.HTTP_400_BAD_REQUEST) from exc
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", data.validated_data.get("title") or "studio").strip("-") or "studio"
        response = HttpResponse(midi, content_type="audio/midi")
        response["Content-Disposition"] = f'attachment; filename="{stem}.mid"'
        return response


class ModelCatalogApi(APIView):
    permission_classes = [IsAuthenticated]

    class ModelSerializer(serializers.Serializer):
        name = serializers.CharField()
        description = serializers.CharField()
        params = serializers.ListField(child=serializers.DictField())

    @extend_schema(operation_id="studio_models", responses={200: ModelSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(model_catalog())


class SaveApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        job = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
        notes = JsonTextField(required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()

    @extend_schema(operation_id="studio_save", request={"multipart/form-data": InputSerializer},
                   responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        rate_limit_request(request, scope="upload")  # a saved composition counts as an upload
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        composition = studio_save(owner=request.user, title=fields["title"], job_id=fields.get("job"),
                                  notes=fields.get("notes"))
        return Response({"id": composition.pk, "title": composition.title}, status=status.HTTP_201_CREATED)


class CheckpointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    architecture = serializers.CharField()
    created_at = serializers.DateTimeField()
    source = serializers.SerializerMethodField(help_text="trained (on the Train page) or uploaded")
    training = serializers.SerializerMethodField(help_text="The training run that made it (GET /api/trainings/{id}/)")
    card = serializers.CharField(help_text="MODEL_CARD.md (trained models)")
    urls = serializers.SerializerMethodField(help_text="download_url (zip), loss_plot_url, measures_plot_url")

    def get_source(self, checkpoint) -> str:
        return "trained" if self.get_training(checkpoint) is not None else "uploaded"

    def get_training(self, checkpoint) -> int | None:
        run = getattr(checkpoint, "training", None) if hasattr(checkpoint, "pk") else None
        return run.pk if run is not None else None

    def get_urls(self, checkpoint) -> dict:
        return checkpoint_urls(checkpoint)


class CheckpointListCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=200)
        checkpoint = serializers.FileField(help_text="model.safetensors")
        config = serializers.FileField(help_text="config.json")

    class ListSerializer(serializers.Serializer):
        results = CheckpointSerializer(many=True)

    @extend_schema(operation_id="models_list", responses={200: ListSerializer})
    def get(self, request: Request) -> Response:
        rows = CheckpointSerializer(checkpoint_list_own(owner=request.user), many=True).data
        return Response({"results": rows})

    @extend_schema(operation_id="models_create", request={"multipart/form-data": InputSerializer},
                   responses={201: CheckpointSerializer})
    def post(self, request: Request) -> Response:
        rate_limit_request(request, scope="upload")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        checkpoint = user_checkpoint_create(owner=request.user, name=fields["name"],
                                            weights=fields["checkpoint"], config=fields["config"])
        return Response(CheckpointSerializer(checkpoint).data, status=status.HTTP_201_CREATED)
