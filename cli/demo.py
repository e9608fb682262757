"""The demo (filled in below)."""

COMMANDS: list = []
