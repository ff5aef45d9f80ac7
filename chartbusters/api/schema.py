"""OpenAPI schema class: nested serializers (HackSoft's ``SomeApi.InputSerializer``) get component names prefixed
with their outer class (``SomeApiInput``), so two APIs' ``InputSerializer`` never collide in the schema."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname and name == type(serializer).__name__:
            return qualname.rsplit(".", 1)[0].replace(".", "") + name
        return name
