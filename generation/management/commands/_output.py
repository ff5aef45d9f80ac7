"""Shared by the generation commands: one-line errors, JSON or text output."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def fail(command: BaseCommand, as_json: bool, code: str, message: str) -> CommandError:
    """With --json the error is also printed as {"error": {"code", "message"}}; the exit status is non-zero."""
    if as_json:
        command.stdout.write(json.dumps({"error": {"code": code, "message": message}}))
    return CommandError(message)


def emit(command: BaseCommand, as_json: bool, result: dict[str, Any], text: str) -> None:
    command.stdout.write(json.dumps(result, default=str) if as_json else text)
