"""Results API routes, included under /api/ by chartbusters/urls.py."""

from django.urls import path

from evaluation.api.judging import SubmissionLikeApi
from evaluation.api.pairs import FinalChoiceApi, PairApi, PairPlayedApi, PairVoteApi
from evaluation.api.views import LeaderboardApi, LeaderboardCsvApi, SubmissionDetailApi, SubmissionListApi

app_name = "results-api"

urlpatterns = [
    path("submissions/", SubmissionListApi.as_view(), name="submission-list"),
    path("submissions/<int:submission_id>/", SubmissionDetailApi.as_view(), name="submission-detail"),
    path("submissions/<int:submission_id>/like/", SubmissionLikeApi.as_view(), name="submission-like"),
    path("challenges/<slug:slug>/leaderboard/", LeaderboardApi.as_view(), name="leaderboard"),
    path("challenges/<slug:slug>/leaderboard.csv", LeaderboardCsvApi.as_view(), name="leaderboard-csv"),
    path("challenges/<slug:slug>/pair/", PairApi.as_view(), name="pair"),
    path("submissions/<int:submission_id>/final/", FinalChoiceApi.as_view(), name="submission-final"),
    path("pairs/<uuid:token>/played/", PairPlayedApi.as_view(), name="pair-played"),
    path("pairs/<uuid:token>/vote/", PairVoteApi.as_view(), name="pair-vote"),
]
