"""Reading an import file (JSON Lines): every line parsed, every bad line reported."""

from __future__ import annotations

import json
from collections.abc import Iterable

from engine.application import LineError
from engine.commands import Command, CommandError, parse_command


def read_commands(
    lines: Iterable[str | bytes],
) -> tuple[list[tuple[int, Command]], list[LineError]]:
    """Numbered commands from JSON Lines (text, or bytes decoded as UTF-8 line by line), and a
    LineError for each line that is not one.

    Blank lines are skipped (their numbers still count).
    """
    commands: list[tuple[int, Command]] = []
    errors: list[LineError] = []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                reason = (f"not UTF-8 text: byte 0x{line[exc.start]:02x} "
                          f"at column {exc.start + 1}")
                errors.append(LineError(number, "?", reason))
                continue
        else:
            text = line
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            reason = f"not valid JSON: {exc.msg} at column {exc.colno}"
            errors.append(LineError(number, "?", reason))
            continue
        except RecursionError:
            errors.append(LineError(number, "?", "not usable JSON: nested too deeply"))
            continue
        name = data.get("cmd", "?") if isinstance(data, dict) else "?"
        try:
            commands.append((number, parse_command(data)))
        except CommandError as exc:
            errors.append(LineError(number, str(name), str(exc)))
    return commands, errors
