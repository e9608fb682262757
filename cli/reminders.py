"""Reminders (issue 3)."""

COMMANDS: list = []
