"""Output serializers of the results API (docs/design.md section 7 field names; extra fields are additive)."""

from __future__ import annotations

from rest_framework import serializers

from chartbusters.api.utils import QueryBooleanField, QueryIntegerField, QuerySlugField


class ScoreSerializer(serializers.Serializer):
    automatic = serializers.FloatField()
    final = serializers.FloatField()
    style = serializers.FloatField()
    realness = serializers.FloatField()
    parts = serializers.JSONField()
    flagged_copy = serializers.BooleanField(allow_null=True)
    copy_penalty = serializers.FloatField(help_text="The factor applied for copying: 1 - the copied share of notes.")
    automatic_unpenalized = serializers.FloatField(allow_null=True, help_text="The automatic score before it.")
    copy_cleared = serializers.BooleanField(help_text="An organizer cleared the copy flag.")


class OutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    input_name = serializers.CharField(help_text='"input 1", "input 2"...: hidden inputs are not named.')
    midi_url = serializers.CharField(allow_null=True)
    audio_url = serializers.CharField(allow_null=True)
    pianoroll_url = serializers.CharField(allow_null=True)
    audio_error = serializers.CharField(allow_blank=True, help_text="Why the audio could not be rendered, if so.")


class SubmissionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    challenge = serializers.CharField()
    title = serializers.CharField()
    entrant = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    disqualified = serializers.BooleanField()
    disqualification_reason = serializers.CharField(
        allow_blank=True, help_text="The organizers' reason for a disqualification: the entrant and organizers only."
    )
    likes = serializers.IntegerField(help_text="Audience likes.")
    score = ScoreSerializer(allow_null=True)
    midi_url = serializers.CharField(allow_null=True)
    audio_url = serializers.CharField(allow_null=True)
    pianoroll_url = serializers.CharField(allow_null=True)
    audio_error = serializers.CharField(allow_blank=True, help_text="Why the audio could not be rendered, if so.")
    checkpoint_url = serializers.CharField(
        allow_null=True, help_text="A checkpoint entry's weights: its entrant and the challenge's organizers only."
    )
    outputs = OutputSerializer(many=True)
    created_at = serializers.DateTimeField()


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    entrant = serializers.CharField()
    submission = serializers.IntegerField()
    title = serializers.CharField()
    score = serializers.FloatField(help_text="The final score once published; the automatic score until then.")
    automatic = serializers.FloatField()
    judge_score = serializers.FloatField(allow_null=True, help_text="The mean judge score, once published.")
    judged = serializers.BooleanField(help_text="The judges' scores are in the final score.")
    likes = serializers.IntegerField(help_text="Audience likes.")
    submitted_at = serializers.DateTimeField()
    audio_url = serializers.CharField(allow_null=True)
    shared_rank = serializers.CharField(help_text='"3", or "3–5" when neighbours\' score intervals overlap.')
    rank_low = serializers.IntegerField(allow_null=True, help_text="First rank of the tied run this row is in.")
    rank_high = serializers.IntegerField(allow_null=True, help_text="Last rank of the tied run this row is in.")
    score_low = serializers.FloatField(allow_null=True, help_text="95 % interval of the score; null when exact.")
    score_high = serializers.FloatField(allow_null=True)
    audience = serializers.FloatField(allow_null=True, help_text="Audience rating 0-100 from listening in pairs.")
    audience_low = serializers.FloatField(allow_null=True, help_text="95 % interval of the audience rating.")
    audience_high = serializers.FloatField(allow_null=True)
    audience_votes = serializers.IntegerField(help_text="Pair comparisons the entry was in.")


class LeaderboardSerializer(serializers.Serializer):
    challenge = serializers.CharField()
    provisional = serializers.BooleanField()
    rescoring = serializers.BooleanField(
        help_text="Every entry is being rescored (the scorer changed): scores may change until done."
    )
    count = serializers.IntegerField(help_text="Ranked entrants in all.")
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    rows = LeaderboardRowSerializer(many=True)
    me = LeaderboardRowSerializer(allow_null=True, help_text="The viewer's own row, wherever it ranks.")


class LeaderboardQuerySerializer(serializers.Serializer):
    offset = QueryIntegerField(min_value=0, default=0)
    limit = QueryIntegerField(min_value=1, max_value=100, default=100)


class SubmissionListQuerySerializer(serializers.Serializer):
    mine = QueryBooleanField(default=True)
    challenge = QuerySlugField(required=False)
