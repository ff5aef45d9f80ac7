"""Shared fixtures.

- ``celery_worker_process`` (session): a REAL Celery worker subprocess on the configured broker and the test
  database; see tests/integration_fixtures.py for its use (tests need ``@pytest.mark.django_db(transaction=True)``
  and ``@pytest.mark.integration``). ``wait_until`` there polls a condition with a timeout.
- ``make_user``: a user with a role (Entrant, Judge or Organizer), password ``"pw-for-tests"``.
"""

from __future__ import annotations

import pytest

from tests.integration_fixtures import celery_worker_process, wait_until  # noqa: F401 - fixtures for all tests

TEST_PASSWORD = "pw-for-tests"


@pytest.fixture
def make_user(db):
    """``make_user("alice", role=Role.ENTRANT)`` -> a saved user in that role's group (organizers are staff)."""
    from django.contrib.auth import get_user_model

    from chartbusters.accounts.services import user_add_role

    def make(username: str, *, role=None, **fields):
        user = get_user_model().objects.create_user(username=username, password=TEST_PASSWORD,
                                                    email=f"{username}@example.com", **fields)
        if role is not None:
            user_add_role(user=user, role=role)
        return user

    return make
