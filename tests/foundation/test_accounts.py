"""Accounts: sign-up makes an entrant, log-in/log-out, password reset by e-mail, the role groups."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail

from chartbusters.accounts.forms import EMAIL_TAKEN
from chartbusters.accounts.roles import Role, user_has_role
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-new-passphrase-42"


def test_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {"Entrant", "Judge", "Organizer"}
    organizer_perms = set(Group.objects.get(name="Organizer").permissions.values_list("codename", flat=True))
    assert {"add_challenge", "change_challenge", "view_challenge", "add_inputmelody", "add_referencefile"} \
        <= organizer_perms
    assert not Group.objects.get(name="Entrant").permissions.exists()
    assert not Group.objects.get(name="Judge").permissions.exists()


def test_sign_up_makes_a_logged_in_entrant(client):
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    assert b"Create my account" in page.content
    response = client.post("/accounts/signup/", {
        "username": "newbie", "email": "newbie@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
    }, follow=True)
    assert response.redirect_chain[-1][0] == "/challenges/"
    user = get_user_model().objects.get(username="newbie")
    assert user_has_role(user, Role.ENTRANT)
    assert not user.is_staff
    assert response.context["user"] == user
    assert b"Welcome, newbie" in response.content


def test_sign_up_errors_are_shown(client, make_user):
    make_user("taken")
    response = client.post("/accounts/signup/", {
        "username": "taken", "email": "taken@example.com", "password1": "short", "password2": "other",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "username" in errors
    assert "password2" in errors
    assert errors["email"] == [EMAIL_TAKEN]


def test_log_in_and_out(client, make_user):
    make_user("alice", role=Role.ENTRANT)
    assert client.get("/accounts/login/").status_code == 200
    response = client.post("/accounts/login/", {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/challenges/"
    page = client.get("/challenges/")
    assert b"Log out" in page.content
    assert b"alice" in page.content
    assert b"My submissions" in page.content
    assert client.post("/accounts/logout/").status_code == 302
    assert b"Log in" in client.get("/challenges/").content


def test_password_reset_by_e_mail(client, make_user):
    make_user("alice", role=Role.ENTRANT)
    response = client.post("/accounts/password-reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"]
    response = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                                             "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/reset/done/"
    assert client.login(username="alice", password=NEW_PASSWORD)
