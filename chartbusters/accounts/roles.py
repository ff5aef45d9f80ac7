"""Roles are groups: Entrant, Judge, Organizer (DESIGN section 1)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ENTRANT = "Entrant"
    JUDGE = "Judge"
    ORGANIZER = "Organizer"


def user_has_role(user, role: Role) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.groups.filter(name=role.value).exists()
