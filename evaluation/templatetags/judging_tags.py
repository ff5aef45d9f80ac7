"""``{% load judging_tags %}``: ``user|judges_anything`` (the header's Judging link)."""

from django import template

from chartbusters.accounts.roles import Role, user_has_role

register = template.Library()


@register.filter
def judges_anything(user) -> bool:
    """A judge or an organizer (staff): the one who has a judging page."""
    return bool(getattr(user, "is_staff", False)) or user_has_role(user, Role.JUDGE)
