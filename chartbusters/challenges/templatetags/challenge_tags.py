"""Template filters for challenge pages: ``{{ text|markdown }}`` (cleaned HTML), URL helpers for other apps' pages."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import SafeString, mark_safe

from chartbusters.challenges.markdown_render import markdown_to_safe_html

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    return mark_safe(markdown_to_safe_html(text))  # cleaned by nh3 with an allow-list


@register.simple_tag
def url_or_path(name: str, fallback: str, *args) -> str:
    """``{% url_or_path "submissions:create" "/challenges/x/submit/" slug %}``: the named URL once the app that
    owns it is installed, the plain path until then."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback
