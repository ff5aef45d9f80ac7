"""API routes: /api/challenges/ and /api/challenges/<slug>/ (other apps add .../submissions/, .../leaderboard/)."""

from django.urls import path

from chartbusters.challenges.apis import ChallengeDetailApi, ChallengeListApi

app_name = "challenges-api"

urlpatterns = [
    path("", ChallengeListApi.as_view(), name="list"),
    path("<slug:slug>/", ChallengeDetailApi.as_view(), name="detail"),
]
