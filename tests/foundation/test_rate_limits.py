"""Rate limits (issue 9 item 4): log-in on the three routes, sign-up, uploads and generation; 429 with Retry-After,
per user and per address, counted in the shared cache (the database cache here)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from chartbusters.accounts.roles import Role
from chartbusters.ratelimit import (
    Rate,
    RateLimitedError,
    client_address,
    parse_rate,
    rate_limit_request,
    wait_text,
)
from submissions.models import Submission
from tests.conftest import TEST_PASSWORD
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db
WRONG = "not-the-password"


def api_login(client, username, password):
    return client.post("/api/auth/token/", {"username": username, "password": password}, format="json")


def page_login(url):
    def attempt(client, username, password):
        return client.post(url, {"username": username, "password": password})
    return attempt


ROUTES = {
    "token API": (APIClient, api_login),
    "log-in page": (Client, page_login("/accounts/login/")),
    "admin log-in": (Client, page_login("/admin/login/")),
}


def test_the_counters_live_in_a_cache_shared_by_processes(settings):
    assert caches[settings.RATE_LIMIT_CACHE].__class__.__name__ in {"DatabaseCache", "RedisCache"}


@pytest.mark.parametrize("route", ROUTES)
def test_30_wrong_passwords_then_the_right_one_is_429(make_user, route):
    client_class, attempt = ROUTES[route]
    make_user("olga", role=Role.ORGANIZER)  # staff, so that the admin would let her in
    client = client_class()
    statuses = [attempt(client, "olga", WRONG).status_code for _ in range(30)]
    assert statuses[:10] == [400 if route == "token API" else 200] * 10  # refused as wrong
    assert set(statuses[10:]) == {429}
    response = attempt(client, "olga", TEST_PASSWORD)
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 15 * 60 + 1
    if route == "token API":
        error = response.json()["error"]
        assert error["code"] == "rate_limited"
        assert "try again in" in error["message"]
        assert "token" not in response.json()
    else:
        form = response.context["form"]
        assert any("Too many failed log-ins" in e and "try again in" in e for e in form.non_field_errors())
        assert b"try again in" in response.content
        assert "_auth_user_id" not in client.session


def test_the_limit_is_per_account_and_address_and_per_address(make_user):
    """Issue 24: ten wrong passwords locked the account from every address, so anyone could lock a judge out."""
    make_user("olga")
    make_user("otto")
    client = APIClient()
    for _ in range(10):
        api_login(client, "olga", WRONG)
    # another account from another address is not affected
    assert api_login(APIClient(REMOTE_ADDR="10.0.0.2"), "otto", TEST_PASSWORD).status_code == 200
    # the same account from its owner's address still logs in (per account and address, not per account) ...
    assert api_login(APIClient(REMOTE_ADDR="10.0.0.3"), "olga", TEST_PASSWORD).status_code == 200
    # ... and the attacker's address is refused, for that account and any other (per address)
    assert api_login(client, "olga", TEST_PASSWORD).status_code == 429
    assert api_login(client, "otto", TEST_PASSWORD).status_code == 429


def test_the_three_routes_share_one_counter(make_user):
    make_user("olga", role=Role.ORGANIZER)
    for _ in range(4):
        api_login(APIClient(), "olga", WRONG)
        page_login("/accounts/login/")(Client(), "olga", WRONG)
    page_login("/admin/login/")(Client(), "olga", WRONG)
    page_login("/admin/login/")(Client(), "olga", WRONG)
    assert api_login(APIClient(), "olga", TEST_PASSWORD).status_code == 429
    assert api_login(APIClient(REMOTE_ADDR="10.9.9.9"), "olga", TEST_PASSWORD).status_code == 200


def test_password_resets_are_limited_per_account_and_per_address(settings, make_user, mailoutbox):
    """Issue 24: 15 resets for one account from one address all sent e-mail."""
    settings.RATE_LIMIT_PASSWORD_RESET = "3/1h"
    make_user("olga")
    make_user("otto")
    statuses = [Client().post("/accounts/password-reset/", {"email": "olga@example.com"}).status_code
                for _ in range(15)]
    assert statuses[:3] == [302] * 3
    assert set(statuses[3:]) == {429}
    assert len(mailoutbox) == 3
    refused = Client(REMOTE_ADDR="10.1.1.1").post("/accounts/password-reset/", {"email": "olga@example.com"})
    assert refused.status_code == 429  # per account, from any address
    assert "Retry-After" in refused
    assert b"Too many password reset requests" in refused.content
    # per address: the first address is done for every account
    assert Client().post("/accounts/password-reset/", {"email": "otto@example.com"}).status_code == 429
    assert Client(REMOTE_ADDR="10.2.2.2").post("/accounts/password-reset/",
                                               {"email": "otto@example.com"}).status_code == 302
    assert len(mailoutbox) == 4


def test_successful_log_ins_do_not_count(make_user):
    make_user("olga")
    client = APIClient()
    for _ in range(15):
        assert api_login(client, "olga", TEST_PASSWORD).status_code == 200


def test_sign_up_attempts_are_limited_per_address(settings):
    settings.RATE_LIMIT_SIGNUP = "3/1h"
    client = Client()
    for i in range(3):
        response = client.post("/accounts/signup/", {"username": f"u{i}", "email": "bad", "password1": "x",
                                                     "password2": "y"})
        assert response.status_code == 200
    response = client.post("/accounts/signup/", {
        "username": "newbie", "email": "newbie@example.com", "password1": "a-long-passphrase-42",
        "password2": "a-long-passphrase-42",
    })
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many sign-up attempts from your address; try again in" in response.content
    assert not Submission.objects.exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username="newbie").exists()


@pytest.fixture
def entrant_api(make_user):
    from rest_framework.authtoken.models import Token

    user = make_user("ella", role=Role.ENTRANT)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_uploads_are_limited_per_user_with_the_api_error_body(settings, entrant_api, tmp_path):
    settings.RATE_LIMIT_UPLOAD = "2/1h"
    settings.MEDIA_ROOT = str(tmp_path)
    ChallengeFactory(slug="mgr", kind="melody-go-round", daily_quota=50, total_quota=50)

    def upload():
        return entrant_api.post("/api/challenges/mgr/submissions/", {
            "title": "T", "accept_licence": "true", "composition": SimpleUploadedFile("t.mid", b"not midi"),
        }, format="multipart")

    assert [upload().status_code for _ in range(2)] == [422, 422]  # refused uploads count too
    response = upload()
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert "Too many uploads" in response.json()["error"]["message"]
    assert 0 < int(response["Retry-After"]) <= 3601


def test_the_entry_page_shows_the_wait_as_a_form_error(settings, make_user, client, tmp_path):
    settings.RATE_LIMIT_UPLOAD = "1/1h"
    settings.MEDIA_ROOT = str(tmp_path)
    ChallengeFactory(slug="mgr", kind="melody-go-round", daily_quota=50, total_quota=50)
    make_user("ella", role=Role.ENTRANT)
    client.login(username="ella", password=TEST_PASSWORD)
    data = {"title": "T", "accept_licence": "on"}
    assert client.post("/challenges/mgr/submit/", {**data, "midi_file": SimpleUploadedFile("t.mid", b"x")}
                       ).status_code == 422
    response = client.post("/challenges/mgr/submit/", {**data, "midi_file": SimpleUploadedFile("t.mid", b"x")})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert b"Too many uploads from your account; try again in" in response.content


def test_signed_in_uploads_count_per_user_not_per_address(settings, make_user, tmp_path):
    """Issue 24: a class of 30 entering from one school address could send two entries each an hour."""
    settings.RATE_LIMIT_UPLOAD = "2/1h"
    settings.MEDIA_ROOT = str(tmp_path)
    ChallengeFactory(slug="mgr", kind="melody-go-round", daily_quota=50, total_quota=50)
    from rest_framework.authtoken.models import Token

    statuses = []
    for i in range(5):
        api = APIClient(REMOTE_ADDR="10.10.10.10")  # one school address
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=make_user(f'pupil{i}')).key}")
        for _ in range(2):
            statuses.append(api.post("/api/challenges/mgr/submissions/", {
                "title": "T", "accept_licence": "true", "composition": SimpleUploadedFile("t.mid", b"not midi"),
            }, format="multipart").status_code)
    assert set(statuses) == {422}  # every pupil's two uploads got past the limit (and were refused as not MIDI)


def test_anonymous_actions_count_per_address(settings, rf):
    from django.contrib.auth.models import AnonymousUser

    settings.RATE_LIMIT_GENERATE = "2/1m"
    request = rf.post("/api/generate/", REMOTE_ADDR="10.3.3.3")
    request.user = AnonymousUser()
    rate_limit_request(request, scope="generate")
    rate_limit_request(request, scope="generate")
    with pytest.raises(RateLimitedError):
        rate_limit_request(request, scope="generate")
    other = rf.post("/api/generate/", REMOTE_ADDR="10.4.4.4")
    other.user = AnonymousUser()
    rate_limit_request(other, scope="generate")


def test_generation_has_its_own_limit(settings, rf, make_user):
    """No generation endpoint yet: the mechanism it uses (rate_limit_request, scope "generate")."""
    settings.RATE_LIMIT_GENERATE = "2/1m"
    request = rf.post("/api/generate/")
    request.user = make_user("ella")
    rate_limit_request(request, scope="generate")
    rate_limit_request(request, scope="generate")
    with pytest.raises(RateLimitedError) as refused:
        rate_limit_request(request, scope="generate")
    assert 0 < refused.value.retry_after <= 61
    settings.RATE_LIMIT_GENERATE = "off"
    rate_limit_request(request, scope="generate")


def test_rates_addresses_and_waits_are_read_as_documented(settings, rf):
    assert parse_rate("10/15m") == Rate(10, 900)
    assert parse_rate("5/h") == Rate(5, 3600)
    assert parse_rate("100/1d") == Rate(100, 86400)
    assert parse_rate("off") is None
    with pytest.raises(ValueError, match="COUNT/PERIOD"):
        parse_rate("ten per minute")
    assert (wait_text(1), wait_text(59), wait_text(61), wait_text(900), wait_text(3 * 3600)) == (
        "1 second", "59 seconds", "2 minutes", "15 minutes", "3 hours")
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert client_address(request) == "10.0.0.1"  # no trusted proxy: the header is the client's own word
    settings.RATE_LIMIT_PROXY_COUNT = 1
    assert client_address(request) == "203.0.113.7"  # what our proxy saw, not what the client claims


def test_the_shared_cache_is_redis_when_there_is_one_else_the_database():
    from chartbusters.settings.base import shared_cache

    assert shared_cache("", "filesystem://")["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert shared_cache("", "redis://r:6379/0") == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://r:6379/0",
        "KEY_PREFIX": "chartbusters"}
    assert shared_cache("redis://cache:6379/1", "filesystem://")["LOCATION"] == "redis://cache:6379/1"


def test_a_flood_of_keys_does_not_cull_the_counters(settings, make_user):
    assert caches[settings.RATE_LIMIT_CACHE]._max_entries >= 100_000
