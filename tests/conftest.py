"""Shared fixtures. Integration fixtures (a real Celery worker process) live in tests/integration_fixtures.py."""
