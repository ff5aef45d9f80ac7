"""Writes on accounts: the role groups and their permissions, sign-up, role assignment."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import transaction

from chartbusters.accounts.roles import ORGANIZER_PERMISSIONS, Role

User = get_user_model()


@transaction.atomic
def roles_ensure_groups() -> dict[Role, Group]:
    """Create the Entrant, Judge and Organizer groups and give Organizer its admin permissions (idempotent).

    Permissions of apps that are not migrated yet are skipped; this runs again after every migrate.
    """
    groups = {role: Group.objects.get_or_create(name=role.value)[0] for role in Role}
    wanted = [
        (app_label, f"{action}_{model}")
        for app_label, models in ORGANIZER_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    ]
    perms = [
        p for p in Permission.objects.filter(content_type__app_label__in=ORGANIZER_PERMISSIONS).select_related(
            "content_type")
        if (p.content_type.app_label, p.codename) in wanted
    ]
    groups[Role.ORGANIZER].permissions.add(*perms)
    return groups


@transaction.atomic
def user_add_role(*, user: AbstractBaseUser, role: Role) -> None:
    """Put ``user`` in the role's group. Organizers become staff (they work in the admin); nobody else does."""
    group = Group.objects.get_or_create(name=role.value)[0]
    if role == Role.ORGANIZER:
        roles_ensure_groups()
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    user.groups.add(group)


@transaction.atomic
def user_sign_up(*, username: str, email: str, password: str) -> AbstractBaseUser:
    """Create an entrant (the form has already validated the username and the password)."""
    user = User.objects.create_user(username=username, email=email, password=password)
    user_add_role(user=user, role=Role.ENTRANT)
    return user
