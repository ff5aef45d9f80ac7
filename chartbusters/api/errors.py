"""The API error body of docs/design.md section 7: ``{"error": {"code": ..., "message": ...}}`` for every 4xx/5xx.

Services raise :class:`chartbusters.errors.ApplicationError` (the rate limits' ``RateLimitedError`` is one), APIs
raise it, :class:`ApiError` or a DRF exception; :func:`api_exception_handler` turns every exception into the one
body, once: an ApplicationError's status, its code and message, ``retry_at`` when it has one, and ``Retry-After``
for a wait. Validation errors also carry ``"fields"``: ``{field: [messages]}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from chartbusters.errors import ApplicationError

logger = logging.getLogger(__name__)

SERVER_ERROR_MESSAGE = "Something went wrong on our side; the error has been logged. Please try again later."
NOT_FOUND_MESSAGE = "Not found."
TOO_LARGE_MESSAGE = "The request body is too large."
INVALID_INPUT_MESSAGE = "The request has invalid fields"


class ApiError(exceptions.APIException):
    """An API error with a stable machine-readable ``code``, a sentence a person can act on and a status.

    ``raise ApiError("quota_exceeded", "You have used your 5 entries for today ...", status=429)``
    """

    def __init__(self, code: str, message: str, *, status: int = status.HTTP_400_BAD_REQUEST,
                 fields: dict[str, list[str]] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status
        self.code = code
        self.message = message
        self.fields = fields
        self.extra = extra or {}

    @classmethod
    def of(cls, refusal: ApplicationError) -> ApiError:
        """The API's answer to an application error: its status, code and message, ``retry_at`` in the body and
        ``Retry-After`` (DRF's handler sends ``wait``) when it has them."""
        error = cls(refusal.code, refusal.message, status=refusal.status,
                    extra={"retry_at": refusal.retry_at.isoformat()} if refusal.retry_at is not None else None)
        if refusal.retry_after is not None:
            error.wait = refusal.retry_after
        return error


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _flatten(value)]
    return [str(detail)]


def _validation_body(exc: exceptions.ValidationError) -> dict:
    detail = exc.detail
    if isinstance(detail, dict):
        fields = {name: _flatten(value) for name, value in detail.items()}
        parts = [f"{name}: {' '.join(msgs)}" if name != "non_field_errors" else " ".join(msgs)
                 for name, msgs in fields.items()]
        return error_body("invalid", f"{INVALID_INPUT_MESSAGE}: " + "; ".join(parts), fields)
    return error_body("invalid", " ".join(_flatten(detail)))


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF EXCEPTION_HANDLER: every error, expected or not, gets the one body."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(NOT_FOUND_MESSAGE)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = ApiError("too_large", TOO_LARGE_MESSAGE, status=413)
    elif isinstance(exc, ApplicationError):
        exc = ApiError.of(exc)
    elif isinstance(exc, SuspiciousOperation):
        exc = ApiError("bad_request", str(exc) or "Bad request.", status=400)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled API error", exc_info=exc)
        return Response(error_body("server_error", SERVER_ERROR_MESSAGE), status=500)
    if isinstance(exc, ApiError):
        response.data = error_body(exc.code, exc.message, exc.fields)
        response.data["error"].update(exc.extra)
    elif isinstance(exc, exceptions.ValidationError):
        response.data = _validation_body(exc)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        if not isinstance(code, str):
            code = getattr(exc, "default_code", "error")
        response.data = error_body(code, " ".join(_flatten(detail)))
    return response
