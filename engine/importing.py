"""Reading an import file (JSON Lines): every line parsed, every bad line reported.

A file is read as it is applied, line by line, never whole into memory: a national programme's
file holds a quarter of a million commands.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from engine.application import LineError
from engine.commands import Command, CommandError, parse_command

Numbered = tuple[int, Command] | LineError


def numbered_commands(lines: Iterable[str | bytes]) -> Iterator[Numbered]:
    """Each line as a numbered command, or as a LineError saying why it is not one.

    Lines are text, or bytes decoded as UTF-8 line by line. Blank lines are skipped (their
    numbers still count).
    """
    for number, line in enumerate(lines, start=1):
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield LineError(number, "?", f"not UTF-8 text: byte 0x{line[exc.start]:02x} "
                                             f"at column {exc.start + 1}")
                continue
        else:
            text = line
        if not text.strip():
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield LineError(number, "?", f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield LineError(number, "?", "not usable JSON: nested too deeply")
            continue
        name = data.get("cmd", "?") if isinstance(data, dict) else "?"
        try:
            yield number, parse_command(data)
        except CommandError as exc:
            yield LineError(number, str(name), str(exc))


class CommandFile:
    """A JSON Lines file of commands that can be read again from its start (a batch that lost
    a race with another writer is re-checked from the beginning).

    A stream that cannot seek (stdin) is first copied to a temporary file.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self._spooled: IO[bytes] | None = None
        if not stream.seekable():
            self._spooled = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            shutil.copyfileobj(stream, self._spooled)
            stream = self._spooled
        self.stream = stream
        self.lines = self._count_lines()

    def close(self) -> None:
        """Remove the temporary copy, if one was made (the caller closes its own stream)."""
        if self._spooled is not None:
            self._spooled.close()

    def __enter__(self) -> CommandFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _count_lines(self) -> int:
        self.stream.seek(0)
        count, last = 0, b"\n"
        while chunk := self.stream.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
        return count + (last != b"\n")

    def __iter__(self) -> Iterator[Numbered]:
        self.stream.seek(0)
        return numbered_commands(self.stream)
