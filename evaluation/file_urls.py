"""/files/<kind>/<uuid>/: the only way to a stored file (included by chartbusters/urls.py)."""

from django.urls import path

from evaluation.views.files import FileDownloadApi

app_name = "files"

urlpatterns = [
    path("<slug:kind>/<uuid:token>/", FileDownloadApi.as_view(), name="download"),
]
