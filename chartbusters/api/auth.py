"""POST /api/auth/token/: trade a username and password for an API token (``Authorization: Token ...``), behind
the log-in rate limit shared with the log-in pages (429 with Retry-After; chartbusters.ratelimit)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chartbusters.api.errors import ApiError
from chartbusters.ratelimit import authenticate_limited

INVALID_CREDENTIALS_MESSAGE = "Unable to log in with that username and password."


class TokenObtainApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    error_statuses = {"POST": (400, 413, 415, 429)}  # the schema's error responses (chartbusters.api.schema)

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate_limited(request._request, **serializer.validated_data)
        if user is None or not user.is_active:
            raise ApiError("invalid_credentials", INVALID_CREDENTIALS_MESSAGE, status=status.HTTP_400_BAD_REQUEST)
        token, _ = Token.objects.get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)
