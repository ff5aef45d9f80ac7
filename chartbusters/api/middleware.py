"""JSON 404s under /api/ and /files/ with DEBUG on too (issue 24): Django answers an unknown URL with its HTML debug
page when DEBUG is on, never reaching ``handler404``; this turns any HTML 404 there into the API's error body."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from chartbusters.api.errors import NOT_FOUND_MESSAGE, error_body
from chartbusters.api.handlers import _is_api


class ApiNotFoundJsonMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code == 404 and _is_api(request)
                and response.get("Content-Type", "").startswith("text/html")):
            return JsonResponse(error_body("not_found", NOT_FOUND_MESSAGE), status=404)
        return response
