"""Roles are groups: Entrant, Judge, Organizer (docs/design.md section 1)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ENTRANT = "Entrant"
    JUDGE = "Judge"
    ORGANIZER = "Organizer"


# What the Organizer group may do in the admin: {app_label: {model: [actions]}}. Entrants and judges are not staff
# and never reach the admin. Apps add their models here (additive edits).
ORGANIZER_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    "challenges": {
        "challenge": ["add", "change", "view"],
        "workerping": ["view"],  # docs/operations.md: check that workers answer (admin, Worker pings)
        "inputmelody": ["add", "change", "delete", "view"],
        "referencefile": ["add", "change", "delete", "view"],
    },
    "submissions": {
        "submission": ["change", "view"],
        "composition": ["view"],
        "submissionoutput": ["view"],
    },
    "evaluation": {
        "score": ["change", "view"], "realnessmodel": ["view"],
        "judgingsettings": ["add", "change", "view"], "judgeconflict": ["add", "change", "delete", "view"],
        "judgeassignment": ["view"], "like": ["view"], "rankingsettings": ["add", "change", "view"],
    },
}


def user_has_role(user, role: Role) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.groups.filter(name=role.value).exists()
