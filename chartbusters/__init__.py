"""Chartbusters: settings, URLs, the Celery app, accounts and challenges."""

from chartbusters.celery import app as celery_app

__all__ = ["celery_app"]
