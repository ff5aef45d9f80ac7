"""Judging API (docs/judging.md): a judge's assignments, one assignment, saving a review; liking an entry.

A judge sees only their own assignments (anyone else's id answers 404), and each holds an entry number, never
who made the entry or what its files were called.
"""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.api.negotiation import FirstRendererNegotiation
from chartbusters.api.utils import StrictPageNumberPagination, get_paginated_response
from chartbusters.files import file_response
from chartbusters.ratelimit import client_address
from evaluation.formula import RUBRIC_MAX, RUBRIC_MIN
from evaluation.models import JudgeAssignment
from evaluation.selectors.judging import judge_assignment_view, judge_review_file
from evaluation.services.audience import like_add
from evaluation.services.judging import judge_assignment_save
from evaluation.services.review_copies import review_copy_get_or_make
from evaluation.views.files import FILE_NOT_FOUND_MESSAGE

ASSIGNMENT_NOT_FOUND = "There is no assignment {id} of yours."


class AssignmentListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    challenge = serializers.CharField(source="challenge.slug")
    challenge_title = serializers.CharField(source="challenge.title")
    round = serializers.IntegerField()
    entry_number = serializers.IntegerField(help_text="The entry's anonymous number in the challenge's judging.")
    status = serializers.CharField(help_text='"pending", "draft" (saved, not submitted) or "submitted" (final).')


class ListenSerializer(serializers.Serializer):
    label = serializers.CharField(help_text='"The entry", or "Input 1", "Input 2"... for a checkpoint entry.')
    audio_url = serializers.CharField(allow_null=True)
    pianoroll_url = serializers.CharField(allow_null=True)


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    challenge = serializers.CharField()
    challenge_title = serializers.CharField()
    round = serializers.IntegerField()
    entry_number = serializers.IntegerField()
    status = serializers.CharField(help_text='"pending", "draft" (saved, not submitted) or "submitted" (final).')
    originality = serializers.IntegerField(allow_null=True)
    balance = serializers.IntegerField(allow_null=True)
    emotion = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    automatic = serializers.FloatField(allow_null=True, help_text="Only when the organizers show it to judges.")
    midi_url = serializers.CharField(allow_null=True)
    listen = ListenSerializer(many=True)
    position = serializers.IntegerField(help_text="This entry's place in the judge's queue of the challenge.")
    total = serializers.IntegerField()
    done = serializers.IntegerField(help_text="Reviews submitted of ``total``.")
    previous_id = serializers.IntegerField(allow_null=True)
    next_id = serializers.IntegerField(allow_null=True)
    editable = serializers.BooleanField()


def _view_or_404(*, user, assignment_id: int):
    view = judge_assignment_view(judge=user, assignment_id=assignment_id)
    if view is None:
        raise ApiError("not_found", ASSIGNMENT_NOT_FOUND.format(id=assignment_id), status=status.HTTP_404_NOT_FOUND)
    return view


class AssignmentListApi(APIView):
    """The signed-in judge's assignments, every challenge, oldest challenge first (empty for anyone else)."""

    permission_classes = [IsAuthenticated]

    class Pagination(StrictPageNumberPagination):
        page_size = 50
        max_page_size = 100

    pagination_class = Pagination

    @extend_schema(operation_id="judging_assignments_list", responses={200: AssignmentListItemSerializer(many=True)})
    def get(self, request: Request) -> Response:
        assignments = (
            JudgeAssignment.objects.filter(judge_id=request.user.pk).select_related("challenge")
            .order_by("challenge__closes_at", "challenge_id", "round", "entry_number", "pk")
        )
        return get_paginated_response(pagination_class=self.Pagination, serializer_class=AssignmentListItemSerializer,
                                      queryset=assignments, request=request, view=self)


class AssignmentDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="judging_assignments_retrieve", responses={200: AssignmentSerializer})
    def get(self, request: Request, assignment_id: int) -> Response:
        return Response(AssignmentSerializer(asdict(_view_or_404(user=request.user,
                                                                 assignment_id=assignment_id))).data)


class AssignmentScoreApi(APIView):
    """Save the review as a draft (``final`` false: any marks so far) or submit it (``final`` true: all three marks,
    then it cannot change)."""

    permission_classes = [IsAuthenticated]
    error_statuses = {"POST": (400, 401, 403, 404, 409, 415, 422)}

    class InputSerializer(serializers.Serializer):
        originality = serializers.IntegerField(min_value=RUBRIC_MIN, max_value=RUBRIC_MAX, required=False,
                                               allow_null=True, help_text="1 noise ... 5 outstanding")
        balance = serializers.IntegerField(min_value=RUBRIC_MIN, max_value=RUBRIC_MAX, required=False, allow_null=True)
        emotion = serializers.IntegerField(min_value=RUBRIC_MIN, max_value=RUBRIC_MAX, required=False, allow_null=True)
        comment = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
        final = serializers.BooleanField(required=False, default=False,
                                         help_text="true: submit (final); false: save as a draft.")

    @extend_schema(operation_id="judging_assignments_score", request=InputSerializer,
                   responses={200: AssignmentSerializer})
    def post(self, request: Request, assignment_id: int) -> Response:
        _view_or_404(user=request.user, assignment_id=assignment_id)  # 404 before any validation: not theirs
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        judge_assignment_save(
            assignment_id=assignment_id, judge=request.user, originality=values.get("originality"),
            balance=values.get("balance"), emotion=values.get("emotion"), comment=values.get("comment", ""),
            submit=values["final"],
        )
        return Response(AssignmentSerializer(asdict(_view_or_404(user=request.user,
                                                                 assignment_id=assignment_id))).data)


class LikeOutputSerializer(serializers.Serializer):
    submission = serializers.IntegerField()
    likes = serializers.IntegerField()


class SubmissionLikeApi(APIView):
    """Like an entry you listened to (not your own; not as a judge of its challenge); one like per entry."""

    permission_classes = [IsAuthenticated]
    error_statuses = {"POST": (400, 401, 403, 404, 409, 429)}

    @extend_schema(operation_id="submissions_like", request=None, responses={201: LikeOutputSerializer})
    def post(self, request: Request, submission_id: int) -> Response:
        likes = like_add(user=request.user, submission_id=submission_id, address=client_address(request))
        return Response({"submission": submission_id, "likes": likes}, status=status.HTTP_201_CREATED)


class ReviewFileApi(APIView):
    """GET /judging/assignments/<id>/files/<name>/: a file of the judge's own review (``midi``, ``audio-<n>``,
    ``pianoroll-<n>``), streamed like /files/...; anyone else: 404. A DRF view so that API clients use their token."""

    permission_classes = [AllowAny]
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(exclude=True)
    def get(self, request: Request, assignment_id: int, name: str):
        source = judge_review_file(judge=request.user, assignment_id=assignment_id, name=name)
        if source is None:
            raise ApiError("not_found", FILE_NOT_FOUND_MESSAGE, status=status.HTTP_404_NOT_FOUND)
        return file_response(review_copy_get_or_make(source=source))  # the judge's anonymized copy
