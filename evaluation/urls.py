"""Results pages, included at the site root by chartbusters/urls.py."""

from django.urls import path

from evaluation.api.pairs import PairExcerptFileApi
from evaluation.views.judging import like_view
from evaluation.views.listening import listen_view, listen_vote_view
from evaluation.views.pages import (
    final_choice_page,
    leaderboard_view,
    my_submissions_view,
    submission_detail_view,
)

app_name = "results"

urlpatterns = [
    path("submissions/mine/", my_submissions_view, name="my-submissions"),
    path("submissions/<int:submission_id>/", submission_detail_view, name="submission-detail"),
    path("submissions/<int:submission_id>/like/", like_view, name="submission-like"),
    path("submissions/<int:submission_id>/final/", final_choice_page, name="submission-final"),
    path("challenges/<slug:slug>/leaderboard/", leaderboard_view, name="leaderboard"),
    path("listen/<slug:slug>/", listen_view, name="listen"),
    path("listen/<slug:slug>/pairs/<uuid:token>/vote/", listen_vote_view, name="listen-vote"),
    path("listen/pairs/<uuid:token>/<int:which>/", PairExcerptFileApi.as_view(), name="listen-excerpt"),
]
