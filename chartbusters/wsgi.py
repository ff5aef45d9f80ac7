"""WSGI entry point (gunicorn chartbusters.wsgi). Never imports torch: models run in workers."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chartbusters.settings.local")

application = get_wsgi_application()
