"""Small helpers for thin APIs (HackSoft style): paginated output, inline serializers and query-string fields."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

PAGE_SIZE_MESSAGE = "A whole number from 1 to {limit} is required."
PAGE_MESSAGE = "A whole number from 1 is required."


class StrictPageNumberPagination(PageNumberPagination):
    """``?page=N&page_size=M`` (M from 1 to ``max_page_size``): a page or page_size that is not such a number is a
    400 naming it (DRF's own falls back to the default in silence), and the schema says the bounds."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_MESSAGE.format(limit=self.max_page_size)]})
        return int(raw)

    def get_page_number(self, request, paginator):
        """``?page=`` must be a whole number from 1 when given (DRF's own reads an empty value as page 1)."""
        raw = request.query_params.get(self.page_query_param)
        if raw is not None and (not raw.isascii() or not raw.isdigit() or int(raw) < 1):
            raise ValidationError({self.page_query_param: [PAGE_MESSAGE]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: {"minimum": 1},
                  self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


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


class ExplicitQueryValueMixin:
    """A query-string field for which ``?name=`` (empty) is a value to validate, not "absent": DRF treats an empty
    form value of an optional field as missing, so ``?status=`` listed everything. Now it is a 400 naming it."""

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class QueryChoiceField(ExplicitQueryValueMixin, serializers.ChoiceField):
    pass


class QuerySlugField(ExplicitQueryValueMixin, serializers.SlugField):
    pass


class QueryBooleanField(ExplicitQueryValueMixin, serializers.BooleanField):
    pass


class QueryIntegerField(ExplicitQueryValueMixin, serializers.IntegerField):
    pass
