"""GET /files/<kind>/<uuid>/: every download (entries, checkpoints, outputs, audio, piano rolls, hidden inputs,
reference files, saved compositions) after the access check of ``evaluation.selectors.files``.

A DRF view so that API clients authenticate with their token as well as browsers with their session; it ignores
the Accept header (a browser's <audio> or <img> asks for media types no renderer has). Not yours or not there: 404.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.api.negotiation import FirstRendererNegotiation
from chartbusters.api.schema import ErrorResponseSerializer
from chartbusters.files import CONTENT_TYPES, FileKind, file_response
from evaluation.selectors.files import file_get_for_viewer
from evaluation.services.audience import listen_record

FILE_NOT_FOUND_MESSAGE = "There is no such file that you may read."



def counts_as_listening(request) -> bool:
    """A GET of the whole file (no Range, or an open range from the start, as players send): a HEAD or a request
    for a few bytes is not a listen (issue 24)."""
    if request.method != "GET":
        return False
    wanted = request.META.get("HTTP_RANGE", "").replace(" ", "").lower()
    return wanted in ("", "bytes=0-")

class FileDownloadApi(APIView):
    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        operation_id="files_download",
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=[k.value for k in FileKind],
                                     description="Which file of the row named by the token.")],
        responses={
            **{(200, media_type): OpenApiResponse(OpenApiTypes.BINARY, "The file's bytes.")
               for media_type in sorted(set(CONTENT_TYPES.values()))},
            404: OpenApiResponse(ErrorResponseSerializer, description="No such file, or not yours to read."),
        },
    )
    def get(self, request: Request, kind: str, token: uuid.UUID):
        stored = file_get_for_viewer(user=request.user, kind=kind, token=token)
        if stored is None:
            raise ApiError("not_found", FILE_NOT_FOUND_MESSAGE, status=status.HTTP_404_NOT_FOUND)
        if counts_as_listening(request):  # audio fetched: the user may now like the entry
            listen_record(user=request.user, kind=kind, token=token)
        return file_response(stored)
