"""Listening in pairs, API (issue 26; docs/design.md §7): the pair to hear, "played to the end" reports, the vote,
and the excerpts by the pair's own URLs."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.api.negotiation import FirstRendererNegotiation
from chartbusters.files import StoredFile, file_response
from chartbusters.ratelimit import client_address
from evaluation.services.input_split import final_choice_set
from evaluation.services.pairs import EXCERPT_SECONDS, pair_excerpt, pair_issue, pair_played, pair_vote
from evaluation.views.files import FILE_NOT_FOUND_MESSAGE
from evaluation.views.listening import pair_audio_url


class PairExcerptSerializer(serializers.Serializer):
    which = serializers.IntegerField(help_text="1 or 2")
    audio_url = serializers.CharField(help_text="The excerpt, by this pair's own URL (the listener's only).")
    ended = serializers.BooleanField(help_text="Reported played to the end.")


class PairSerializer(serializers.Serializer):
    token = serializers.UUIDField()
    seconds = serializers.FloatField(help_text="Length of each excerpt.")
    excerpts = PairExcerptSerializer(many=True)
    vote_url = serializers.CharField()


def _pair(issue) -> dict:
    return {
        "token": str(issue.token),
        "seconds": EXCERPT_SECONDS,
        "excerpts": [
            {"which": 1, "audio_url": pair_audio_url(issue.token, 1), "ended": issue.first_ended_at is not None},
            {"which": 2, "audio_url": pair_audio_url(issue.token, 2), "ended": issue.second_ended_at is not None},
        ],
        "vote_url": f"/api/pairs/{issue.token}/vote/",
    }


class PairApi(APIView):
    """GET: the pair this listener is to compare in the challenge (the same one until they vote, for an hour)."""

    permission_classes = [IsAuthenticated]
    error_statuses = {"GET": (400, 401, 403, 404, 409)}

    @extend_schema(operation_id="challenges_pair", responses={200: PairSerializer})
    def get(self, request: Request, slug: str) -> Response:
        return Response(_pair(pair_issue(slug=slug, user=request.user)))


class PairPlayedApi(APIView):
    """POST {"which": 1|2}: the excerpt played to its end (the page reports it from the audio element's end)."""

    permission_classes = [IsAuthenticated]
    error_statuses = {"POST": (400, 401, 404)}

    class InputSerializer(serializers.Serializer):
        which = serializers.ChoiceField(choices=[1, 2])

    @extend_schema(operation_id="pairs_played", request=InputSerializer, responses={200: PairSerializer})
    def post(self, request: Request, token) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(_pair(pair_played(token=token, user=request.user, which=data.validated_data["which"])))


class PairVoteOutputSerializer(serializers.Serializer):
    recorded = serializers.BooleanField()
    next_url = serializers.CharField()


class PairVoteApi(APIView):
    """POST {"choice": "first"|"second"|"same"}: the verdict, once both excerpts were played to the end."""

    permission_classes = [IsAuthenticated]
    error_statuses = {"POST": (400, 401, 403, 404, 409, 429)}

    class InputSerializer(serializers.Serializer):
        choice = serializers.ChoiceField(choices=["first", "second", "same"])

    @extend_schema(operation_id="pairs_vote", request=InputSerializer, responses={201: PairVoteOutputSerializer})
    def post(self, request: Request, token) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        vote = pair_vote(token=token, user=request.user, choice=data.validated_data["choice"],
                         address=client_address(request))
        return Response({"recorded": True, "next_url": f"/api/challenges/{vote.challenge.slug}/pair/"},
                        status=status.HTTP_201_CREATED)


class PairExcerptFileApi(APIView):
    """GET /listen/pairs/<token>/<1|2>/: an excerpt of the listener's own pair; anyone else: 404."""

    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(exclude=True)
    def get(self, request: Request, token, which: int):
        excerpt = pair_excerpt(token=token, user=request.user, which=which)
        if excerpt is None or not excerpt.audio:
            raise ApiError("not_found", FILE_NOT_FOUND_MESSAGE, status=status.HTTP_404_NOT_FOUND)
        return file_response(StoredFile(name=excerpt.audio.name, download_name=f"excerpt-{which}.mp3"))


class FinalChoiceApi(APIView):
    """POST {"final": true|false}: mark or unmark one's own entry as final (split Melody Harvest challenges: the
    entries ranked on the private inputs after the close; at most N, set by the organizers)."""

    permission_classes = [IsAuthenticated]
    error_statuses = {"POST": (400, 401, 404, 409)}

    class InputSerializer(serializers.Serializer):
        final = serializers.BooleanField()

    class OutputSerializer(serializers.Serializer):
        final_entries = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(operation_id="submissions_final", request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request, submission_id: int) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chosen = final_choice_set(user=request.user, submission_id=submission_id, final=data.validated_data["final"])
        return Response({"final_entries": chosen})
