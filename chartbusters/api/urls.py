"""API routes shared by the whole site (/api/auth/...)."""

from django.urls import path

from chartbusters.api.auth import TokenObtainApi

app_name = "api-auth"

urlpatterns = [
    path("token/", TokenObtainApi.as_view(), name="token"),
]
