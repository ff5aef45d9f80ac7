"""URL map. Each app owns its own urls and api_urls modules; helpers add their includes here."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chartbusters.ratelimit import with_rate_limit_status

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="challenges:list"), name="home"),
    # The admin's log-in form is rate limited (chartbusters.accounts.admin); this answers its refusals with 429.
    path("admin/login/", with_rate_limit_status(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/", include("chartbusters.accounts.urls")),
    path("challenges/", include("chartbusters.challenges.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/auth/", include("chartbusters.api.urls")),
    path("api/challenges/", include("chartbusters.challenges.api_urls")),
    path("", include("submissions.urls")),
    path("api/", include("submissions.api_urls")),
    # Results (evaluation): /submissions/mine/, /submissions/<id>/, /challenges/<slug>/leaderboard/ and their API.
    path("", include("evaluation.urls")),
    path("api/", include("evaluation.api_urls")),
    # Judging (evaluation): /judging/... pages for judges and organizers, and /api/judging/assignments/...
    path("judging/", include("evaluation.judging_urls")),
    path("api/judging/", include("evaluation.judging_api_urls")),
    # The studio (generation): /studio/ and /api/generate/, /api/jobs/..., /api/studio/..., /api/models/.
    path("", include("generation.urls")),
    path("api/", include("generation.api_urls")),
    # Every stored file, after an access check (docs/operations.md "Files"). Nothing under MEDIA_ROOT is served
    # directly,
    # in DEBUG neither: there is no /media/ route.
    path("files/", include("evaluation.file_urls")),
]

# Error pages: JSON {"error": {"code", "message"}} under /api/, HTML elsewhere.
handler400 = "chartbusters.api.handlers.handler400"
handler403 = "chartbusters.api.handlers.handler403"
handler404 = "chartbusters.api.handlers.handler404"
handler500 = "chartbusters.api.handlers.handler500"
