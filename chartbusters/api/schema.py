"""OpenAPI schema class.

- Nested serializers (HackSoft's ``SomeApi.InputSerializer``) get component names prefixed with their outer class
  (``SomeApiInput``), so two APIs' ``InputSerializer`` never collide in the schema.
- Every operation documents the error statuses it can answer with the one error body of docs/design.md section 7
  (``ErrorResponse``): 400, 401, 403 and 404 for all; a POST also 413, 415, 422 and 429. A view narrows or widens
  the list with ``error_statuses`` (e.g. ``{"POST": (400, 415, 429)}``).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers

ERROR_DESCRIPTIONS = {
    400: "Invalid request (fields: which field and why)",
    401: "Not signed in, or the token is not valid",
    403: "Not allowed (role, or the challenge is not open for entries)",
    404: "No such object that you may see",
    409: "The object's state does not allow it now (e.g. a review already submitted, an entry already liked)",
    413: "A file or the request is too large (the message names the limit)",
    415: "Unsupported content type",
    422: "A file or field that cannot be accepted (the message says why)",
    429: "Rate limit or quota reached: wait the Retry-After seconds (retry_at for a daily quota)",
}
DEFAULT_ERROR_STATUSES = {"GET": (400, 401, 403, 404), "POST": (400, 401, 403, 404, 413, 415, 422, 429)}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable: invalid, not_found, rate_limited, ...")
    message = serializers.CharField(help_text="A sentence a person can act on.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="For invalid fields: {field: [messages]}.")
    retry_at = serializers.DateTimeField(required=False, help_text="A daily quota: when it resets (UTC).")


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname and name == type(serializer).__name__:
            return qualname.rsplit(".", 1)[0].replace(".", "") + name
        return name

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.FileField) and schema.get("type") == "string":
            schema["minLength"] = 1  # an empty string is no file: the API refuses it, so the schema says so (issue 24)
        return schema

    def _error_statuses(self) -> tuple[int, ...]:
        declared = getattr(self.view, "error_statuses", None) or {}
        return declared.get(self.method, DEFAULT_ERROR_STATUSES.get(self.method, (400, 401, 403, 404)))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if str(status) not in responses:
                response = self._get_response_for_code(ErrorResponseSerializer, str(status), ["application/json"])
                response["description"] = ERROR_DESCRIPTIONS[status]
                if status == 429:
                    response["headers"] = {"Retry-After": {
                        "schema": {"type": "integer"}, "description": "Seconds to wait before trying again."}}
                responses[str(status)] = response
        return responses
