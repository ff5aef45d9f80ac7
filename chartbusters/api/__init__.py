"""Shared REST API pieces: the error body, the token endpoint, helpers other apps import."""
