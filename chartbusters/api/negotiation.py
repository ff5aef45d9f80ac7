"""Content negotiation for the views that hand over file bytes (downloads, judges' and listeners' clips)."""

from __future__ import annotations

from rest_framework.negotiation import BaseContentNegotiation


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignores the Accept header: the view's first parser and renderer (a browser's <audio> or <img> asks for media
    types no renderer has)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
