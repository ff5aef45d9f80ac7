"""GET /api/challenges/ (paginated; ?status=open|upcoming|judging|closed, ?kind=) and GET /api/challenges/{slug}/."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.utils import QueryChoiceField, StrictPageNumberPagination
from chartbusters.challenges.models import Challenge
from chartbusters.challenges.selectors import (
    challenge_get,
    challenge_list,
    challenge_quota_text,
    challenge_time_left,
)


class TimeLeftSerializer(serializers.Serializer):
    until = serializers.CharField(help_text='"opens", "closes", "judging ends", or "" once closed')
    at = serializers.DateTimeField(allow_null=True)
    seconds = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()


class ChallengeSummarySerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    time_left = serializers.SerializerMethodField()
    quota_text = serializers.SerializerMethodField()

    class Meta:
        model = Challenge
        fields = ["slug", "title", "kind", "status", "opens_at", "closes_at", "judging_ends_at", "time_left",
                  "daily_quota", "total_quota", "quota_text", "results_published"]

    def _now(self):
        return self.context.get("now") or timezone.now()

    @extend_schema_field(serializers.ChoiceField(choices=Challenge.Status.choices))
    def get_status(self, obj: Challenge) -> str:
        return obj.status_at(self._now())

    @extend_schema_field(TimeLeftSerializer)
    def get_time_left(self, obj: Challenge) -> dict:
        return TimeLeftSerializer(challenge_time_left(obj, self._now())).data

    def get_quota_text(self, obj: Challenge) -> str:
        return challenge_quota_text(obj)


class ChallengeDetailSerializer(ChallengeSummarySerializer):
    input_melodies = serializers.SerializerMethodField(help_text="How many hidden input melodies (Melody Harvest).")
    reference_files = serializers.SerializerMethodField(help_text="How many reference files (0: the Bach chorales).")

    class Meta(ChallengeSummarySerializer.Meta):
        fields = [*ChallengeSummarySerializer.Meta.fields, "description", "weight_style", "weight_realness",
                  "metrics", "alpha", "originality_threshold_bars", "generation_params",
                  "generation_time_limit_seconds", "entry_licence", "input_melodies", "reference_files"]

    def get_input_melodies(self, obj: Challenge) -> int:
        return obj.input_melodies.count()

    def get_reference_files(self, obj: Challenge) -> int:
        return obj.reference_files.count()


class ChallengeListApi(APIView):
    permission_classes = [AllowAny]

    class Pagination(StrictPageNumberPagination):
        page_size = 20
        max_page_size = 100

    pagination_class = Pagination  # the schema documents the page ({"count", "next", "previous", "results"})

    class FilterSerializer(serializers.Serializer):
        status = QueryChoiceField(choices=Challenge.Status.choices, required=False)
        kind = QueryChoiceField(choices=Challenge.Kind.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ChallengeSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        now = timezone.now()
        queryset = challenge_list(user=request.user, now=now, **filters.validated_data)
        paginator = self.Pagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        data = ChallengeSummarySerializer(page, many=True, context={"now": now}).data
        return paginator.get_paginated_response(data)


class ChallengeDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ChallengeDetailSerializer)
    def get(self, request: Request, slug: str) -> Response:
        challenge = challenge_get(slug=slug, user=request.user)
        return Response(ChallengeDetailSerializer(challenge).data)

