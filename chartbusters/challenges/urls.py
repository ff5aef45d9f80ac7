"""Pages: /challenges/ and /challenges/<slug>/ (other apps add /challenges/<slug>/submit/, .../leaderboard/)."""

from django.urls import path

from chartbusters.challenges.views import challenge_detail_view, challenge_list_view

app_name = "challenges"

urlpatterns = [
    path("", challenge_list_view, name="list"),
    path("<slug:slug>/", challenge_detail_view, name="detail"),
]
