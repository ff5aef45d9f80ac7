"""File links in the admin: to the access-checked ``/files/<kind>/<uuid>/``, never to a MEDIA_ROOT path."""

from __future__ import annotations

from django.contrib.admin.widgets import AdminFileWidget
from django.utils.html import format_html

from chartbusters.files import FileKind, file_url


class _Link:
    """What the file widget's template reads of the current file: ``url`` and its text."""

    def __init__(self, url: str, text: str) -> None:
        self.url = url
        self._text = text

    def __str__(self) -> str:
        return self._text


class FileLinkWidget(AdminFileWidget):
    """The admin's file input; "Currently:" links to the file's access-checked URL."""

    def __init__(self, kind: FileKind, attrs=None) -> None:
        super().__init__(attrs)
        self.kind = kind

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        row = getattr(value, "instance", None)
        if context["widget"]["is_initial"] and getattr(row, "public_id", None):
            context["widget"]["value"] = _Link(file_url(self.kind, row.public_id), "download")
        return context


def file_link(kind: FileKind, row, field) -> str:
    """A read-only admin cell: a download link to ``row``'s file ``field``, or "-" when it has none."""
    if row is None or not field:
        return "-"
    return format_html('<a href="{}">download</a>', file_url(kind, row.public_id))
