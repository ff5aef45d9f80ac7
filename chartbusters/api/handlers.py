"""Django error views: JSON error bodies under /api/ and /files/ (the access-checked downloads, which API clients
call too), HTML pages elsewhere (urls.py handler400...500).

These cover what DRF's exception handler never sees: an unknown /api/ URL, or an error outside a DRF view.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

from chartbusters.api.errors import NOT_FOUND_MESSAGE, SERVER_ERROR_MESSAGE, error_body

PERMISSION_DENIED_MESSAGE = "You do not have permission to perform this action."
BAD_REQUEST_MESSAGE = "Bad request."


JSON_PREFIXES = ("/api/", "/files/")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("bad_request", BAD_REQUEST_MESSAGE), status=400)
    return defaults.bad_request(request, exception)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("permission_denied", PERMISSION_DENIED_MESSAGE), status=403)
    return defaults.permission_denied(request, exception)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("not_found", NOT_FOUND_MESSAGE), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(error_body("server_error", SERVER_ERROR_MESSAGE), status=500)
    return defaults.server_error(request)
