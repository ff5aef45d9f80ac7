"""Small helpers for thin APIs (HackSoft style): paginated output and inline serializers."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def inline_serializer(*, name: str, fields: dict, data: dict | None = None, **kwargs) -> serializers.Serializer:
    """A one-off serializer class (named, so the OpenAPI schema has a stable component name)."""
    serializer_class = type(name, (serializers.Serializer,), fields)
    if data is not None:
        return serializer_class(data=data, **kwargs)
    return serializer_class(**kwargs)


def get_paginated_response(*, pagination_class: type[BasePagination], serializer_class: type[serializers.Serializer],
                           queryset, request: Request, view: APIView) -> Response:
    """Paginate ``queryset`` and serialize one page: ``{"count", "next", "previous", "results"}``."""
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    if page is not None:
        return paginator.get_paginated_response(serializer_class(page, many=True).data)
    return Response(serializer_class(queryset, many=True).data)
