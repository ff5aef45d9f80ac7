"""Results API: submission detail and list, the leaderboard and its CSV export (docs/design.md section 7)."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.api.utils import StrictPageNumberPagination, get_paginated_response
from evaluation.api.csv_export import leaderboard_csv_response
from evaluation.api.serializers import (
    LeaderboardQuerySerializer,
    LeaderboardRowSerializer,
    LeaderboardSerializer,
    SubmissionListQuerySerializer,
    SubmissionSerializer,
)
from evaluation.selectors.access import (
    challenge_get_visible,
    entrant_names_hidden,
    leaderboard_row_shown,
    music_withheld,
    user_organizes,
)
from evaluation.selectors.leaderboard import (
    leaderboard_is_provisional,
    leaderboard_is_rescoring,
    leaderboard_page_cached,
    leaderboard_row_of,
)
from evaluation.selectors.submissions import (
    submission_get_for_viewer,
    submission_list_mine,
    submission_views_mine,
)

SUBMISSION_NOT_FOUND_MESSAGE = "There is no submission {id} that you may see."
CHALLENGE_NOT_FOUND_MESSAGE = "There is no challenge called \u201c{slug}\u201d."
CSV_ORGANIZERS_ONLY_MESSAGE = "Only the organizers of this challenge can export its leaderboard as CSV."
ROW_KEYS = tuple(LeaderboardRowSerializer().fields)
EMPTY_FORMAT_MESSAGE = "format is empty: leave it out, or give json or csv."
CSV_LOGIN_MESSAGE = "Log in as an organizer of this challenge to export its leaderboard as CSV."


class CSVRenderer(BaseRenderer):
    """Lets DRF accept ``?format=csv``; the view answers with a streamed CSV response itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else str(data).encode()


def _challenge_or_404(*, slug: str, user, with_leaderboard_token: bool = False):
    challenge = challenge_get_visible(slug=slug, user=user, with_leaderboard_token=with_leaderboard_token)
    if challenge is None:
        raise ApiError("not_found", CHALLENGE_NOT_FOUND_MESSAGE.format(slug=slug), status=status.HTTP_404_NOT_FOUND)
    return challenge


def _csv_or_error(*, request: Request, slug: str):
    challenge = _challenge_or_404(slug=slug, user=request.user)
    if not request.user.is_authenticated:
        raise ApiError("not_authenticated", CSV_LOGIN_MESSAGE, status=status.HTTP_401_UNAUTHORIZED)
    if not user_organizes(user=request.user, challenge=challenge):
        raise ApiError("permission_denied", CSV_ORGANIZERS_ONLY_MESSAGE, status=status.HTTP_403_FORBIDDEN)
    return leaderboard_csv_response(challenge=challenge)


def _public_row(row: dict | None, *, user, names_hidden: bool, music_hidden: bool = False) -> dict | None:
    """The documented keys of a row (no entrant id); the entrant's name only where blind judging allows it."""
    shown = leaderboard_row_shown(row, user=user, names_hidden=names_hidden, music_hidden=music_hidden)
    return None if shown is None else {key: shown[key] for key in ROW_KEYS}


class SubmissionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses={200: SubmissionSerializer})
    def get(self, request: Request, submission_id: int) -> Response:
        view = submission_get_for_viewer(user=request.user, submission_id=submission_id)
        if view is None:
            raise ApiError(
                "not_found", SUBMISSION_NOT_FOUND_MESSAGE.format(id=submission_id), status=status.HTTP_404_NOT_FOUND
            )
        return Response(SubmissionSerializer(asdict(view)).data)


class SubmissionListApi(APIView):
    """The viewer's own submissions (``?mine=1``, the only listing there is), newest first, paginated."""

    permission_classes = [IsAuthenticated]

    class Pagination(StrictPageNumberPagination):
        page_size = 20
        max_page_size = 100

    pagination_class = Pagination  # the schema documents the page ({"count", "next", "previous", "results"})

    class _Serializer(SubmissionSerializer):
        """Serializes Submission rows by turning them into views first."""

        def to_representation(self, instance):
            return super().to_representation(asdict(submission_views_mine([instance])[0]))

    @extend_schema(
        parameters=[SubmissionListQuerySerializer], responses={200: SubmissionSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        query = SubmissionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        submissions = submission_list_mine(user=request.user, challenge_slug=query.validated_data.get("challenge"))
        return get_paginated_response(
            pagination_class=self.Pagination, serializer_class=self._Serializer, queryset=submissions,
            request=request, view=self,
        )


class LeaderboardApi(APIView):
    """Top rows (``limit`` at most 100, from ``offset``) plus the viewer's own row; ``?format=csv`` for organizers."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    def handle_exception(self, exc):
        """Errors are JSON ({"error": ...}) even when CSV was asked for."""
        response = super().handle_exception(exc)
        if getattr(getattr(self.request, "accepted_renderer", None), "format", None) == "csv":
            self.request.accepted_renderer = JSONRenderer()
            self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses={200: LeaderboardSerializer})
    def get(self, request: Request, slug: str) -> Response:
        if "format" in request.query_params and not request.query_params["format"]:  # ?format= (issue 24)
            raise ApiError("invalid", EMPTY_FORMAT_MESSAGE, status=status.HTTP_400_BAD_REQUEST)
        if request.accepted_renderer.format == "csv":
            return _csv_or_error(request=request, slug=slug)
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        challenge = _challenge_or_404(slug=slug, user=request.user, with_leaderboard_token=True)
        offset, limit = query.validated_data["offset"], query.validated_data["limit"]
        page = leaderboard_page_cached(challenge=challenge, offset=offset, limit=limit)
        hidden = entrant_names_hidden(user=request.user, challenge=challenge)
        withheld = music_withheld(user=request.user, challenge=challenge)
        # Rows are plain JSON-able values from the selector, already in the shape LeaderboardRowSerializer documents
        # for the schema: running 100 rows through a DRF serializer costs more than the whole cached read.
        return Response({
            "challenge": challenge.slug,
            "provisional": leaderboard_is_provisional(challenge=challenge),
            "rescoring": leaderboard_is_rescoring(challenge=challenge),
            "count": page["count"],
            "offset": offset,
            "limit": limit,
            "rows": [_public_row(row, user=request.user, names_hidden=hidden, music_hidden=withheld)
                     for row in page["rows"]],
            "me": _public_row(leaderboard_row_of(challenge=challenge, user=request.user), user=request.user,
                              names_hidden=hidden, music_hidden=withheld),
        })


class LeaderboardCsvApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="challenges_leaderboard_csv", responses={(200, "text/csv"): str})
    def get(self, request: Request, slug: str):
        return _csv_or_error(request=request, slug=slug)

