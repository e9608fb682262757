"""Shared fixtures: a real SQLite store in a temporary folder, and a command helper."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.bootstrap import Store, init_store
from engine.commands import parse_command

DATA = Path(__file__).parent / "data"
ADMIN = "admin@extramile.test"
OFFICE = "office@extramile.dcsf.test"


class FixedClock:
    """A recording clock that moves one second per call (deterministic recorded_at)."""

    def __init__(self, start: dt.datetime = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) -> None:
        self._ticks = itertools.count()
        self._start = start

    def __call__(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=next(self._ticks))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An empty store in a real SQLite file, with an admin user."""
    s = init_store(ADMIN, url=str(tmp_path / "extramile.db"), clock=FixedClock())
    yield s
    s.close()


def run(store: Store, *commands: dict[str, Any], user: str = ADMIN) -> int:
    """Execute command dicts (import format) as one batch."""
    return store.execute([(n, parse_command(c)) for n, c in enumerate(commands, 1)], user)


def sample_commands() -> list[dict[str, Any]]:
    with (DATA / "sample-programme.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture
def sample_store(store: Store) -> Store:
    """The shared sample programme imported into a fresh store."""
    run(store, *sample_commands())
    return store
