"""POST /api/challenges/{slug}/submissions/ -> 202 {"id", "status"} (docs/design.md section 7).

Multipart fields: ``title``, ``description``, ``accept_licence`` (true: the entrant accepts the challenge's
entry licence), and either ``composition`` (a MIDI file) or ``composition_id`` (one of the entrant's saved
compositions) for Melody-Go-Round, or ``checkpoint`` (safetensors) + ``config`` (JSON, a file or a text field)
+ ``model_card`` for Melody Harvest. Refusals: 401, 403, 404, 413, 422, 429 (quota: with Retry-After and
``retry_at``; rate limit: with Retry-After) in the ``{"error": {"code", "message"}}`` body.
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.ratelimit import rate_limit_request
from submissions.selectors import challenge_get_for_entry
from submissions.services.errors import EntryRefusedError
from submissions.services.intake import submission_create_checkpoint, submission_create_composition

NO_ENTRY_FILE_MESSAGE = (
    "Send a MIDI file as `composition` (or a saved composition as `composition_id`), or a checkpoint as "
    "`checkpoint` + `config`."
)
MIXED_ENTRY_MESSAGE = "Send either a composition or a checkpoint, not both."


@extend_schema_field(OpenApiTypes.STR)
class ConfigField(serializers.Field):
    """``config``: a file part (config.json) or a text field, passed on as it came; the intake service reads it
    within the engine's config limits (never a copy of the request: a temporary file cannot be copied)."""

    default_error_messages = {"invalid": "Send the checkpoint config (config.json) as a file part or a text field."}

    def to_internal_value(self, data):
        if isinstance(data, UploadedFile | str):
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


class SubmissionCreateApi(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(required=False, allow_blank=True, default="")
        accept_licence = serializers.BooleanField(required=False, default=False)
        composition = serializers.FileField(required=False)
        composition_id = serializers.IntegerField(required=False, min_value=1)
        checkpoint = serializers.FileField(required=False)
        config = ConfigField(required=False)
        model_card = serializers.CharField(required=False, allow_blank=True, default="")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        status = serializers.CharField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={202: OutputSerializer})
    def post(self, request: Request, slug: str) -> Response:
        rate_limit_request(request, scope="upload")  # 429 + Retry-After (RATE_LIMIT_UPLOAD)
        challenge = challenge_get_for_entry(slug=slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        is_composition = "composition" in fields or "composition_id" in fields
        is_checkpoint = "checkpoint" in fields or "config" in fields
        common = {
            "challenge": challenge, "entrant": request.user, "title": fields["title"],
            "description": fields["description"], "licence_accepted": fields["accept_licence"],
        }
        if is_composition and is_checkpoint:
            raise EntryRefusedError("mixed_entry", MIXED_ENTRY_MESSAGE, status=422)
        if is_composition:
            submission = submission_create_composition(
                **common, midi_file=fields.get("composition"), composition_id=fields.get("composition_id")
            )
        elif is_checkpoint:
            submission = submission_create_checkpoint(
                **common, checkpoint_file=fields.get("checkpoint"), config=fields.get("config"),
                model_card=fields["model_card"],
            )
        else:
            raise EntryRefusedError("no_entry_file", NO_ENTRY_FILE_MESSAGE, status=422)
        return Response(self.OutputSerializer(submission).data, status=status.HTTP_202_ACCEPTED)
