"""Helpers for the reliability tests of parts 3, 4 and 6: running the CLI (in process and as a
real subprocess), counting stored events, and checking that a refusal is one clear error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text

from cli.main import cli
from engine.persistence import database_url

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "admin@x.test"
EVENTS_TABLE = "extramile_events"


def invoke(db: str | Path | None, *args: str, user: str | None = ADMIN,
           env: Mapping[str, str] | None = None, stdin: bytes | str | None = None) -> Result:
    """The CLI in this process (click's runner), against the store at `db`."""
    head = ["--db", str(db)] if db is not None else []
    if user is not None:
        head += ["--as", user]
    return CliRunner().invoke(cli, [*head, *args], env=dict(env or {}), input=stdin)


def run_cli(db: str | Path | None, *args: str, user: str | None = ADMIN,
            env: Mapping[str, str] | None = None, timeout: float = 120,
            stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a real process (`python -m cli`), stdout and stderr captured as text."""
    head = ["--db", str(db)] if db is not None else []
    if user is not None:
        head += ["--as", user]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EXTRAMILE_")}
    full_env.update({"PYTHONPATH": str(ROOT), **(env or {})})
    return subprocess.run([sys.executable, "-m", "cli", *head, *args], cwd=ROOT, env=full_env,
                          input=stdin, capture_output=True, timeout=timeout, check=False,
                          text=stdin is None)


def init(db: str | Path, admin: str = ADMIN) -> None:
    result = invoke(db, "init", "--admin", admin)
    assert result.exit_code == 0, (result.stdout, result.stderr)


def event_count(db: str | Path) -> int:
    """How many events the store holds, read straight from its events table."""
    engine = create_engine(database_url(str(db)))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"SELECT count(*) FROM {EVENTS_TABLE}")).scalar_one())
    finally:
        engine.dispose()


def _out(result: Result | subprocess.CompletedProcess[Any]) -> tuple[int, str, str]:
    if isinstance(result, Result):
        return result.exit_code, result.stdout, result.stderr
    out, err = result.stdout, result.stderr
    if isinstance(out, bytes):
        out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    return result.returncode, out, err


def describe(result: Result | subprocess.CompletedProcess[Any]) -> str:
    code, out, err = _out(result)
    return f"exit {code}\n--- stdout ---\n{out[-3000:]}\n--- stderr ---\n{err[-3000:]}"


def no_traceback(result: Result | subprocess.CompletedProcess[Any]) -> None:
    """Nothing a user sees is a traceback or an unexpected 'internal error'."""
    _, out, err = _out(result)
    for stream in (out, err):
        assert "Traceback" not in stream, describe(result)
        assert "internal error" not in stream, describe(result)
        assert "internal_error" not in stream, describe(result)
    if isinstance(result, Result):
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            describe(result)


def lines_of(stream: str) -> list[str]:
    """The lines a terminal shows (split at newlines only; blank ones dropped)."""
    return [line for line in stream.split("\n") if line.strip()]


def one_clear_error(result: Result | subprocess.CompletedProcess[Any]) -> str:
    """Exit 1, no traceback, exactly one line on stderr (click's `Error: ...`); that line."""
    code, out, err = _out(result)
    assert code == 1, describe(result)
    no_traceback(result)
    shown = lines_of(err)
    assert len(shown) == 1, describe(result)
    assert shown[0].startswith("Error: ") and len(shown[0]) > len("Error: ") + 3, \
        describe(result)
    assert not out.strip(), describe(result)
    return shown[0]


IMPORT_LINE = re.compile(r"^(?P<name>.+): line (?P<line>\d+): (?P<cmd>.*?): (?P<reason>.+)$")


def import_refusal(result: Result | subprocess.CompletedProcess[Any], name: str) -> list[int]:
    """An import refused as README promises: exit 1, one line per rejected line
    (`FILE: line N: CMD: reason`) then `Error: FILE: K rejected line(s); nothing stored`, or a
    single `Error:` line for a file-level failure. The rejected line numbers."""
    code, out, err = _out(result)
    assert code == 1, describe(result)
    no_traceback(result)
    assert not out.strip(), describe(result)
    shown = lines_of(err)
    assert shown, describe(result)
    last = shown[-1]
    assert last.startswith("Error: "), describe(result)
    if len(shown) == 1 and "rejected line" not in last:
        return []  # a failure of the whole file, in one line
    summary = re.fullmatch(rf"Error: {re.escape(name)}: (\d+) rejected lines?; nothing stored",
                           last)
    assert summary, describe(result)
    numbers = []
    for line in shown[:-1]:
        match = IMPORT_LINE.match(line)
        assert match and match["name"] == name, describe(result)
        numbers.append(int(match["line"]))
    assert len(numbers) == int(summary[1]), describe(result)
    assert numbers == sorted(numbers), describe(result)
    return numbers
