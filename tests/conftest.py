"""Shared fixtures: a real SQLite store in a temporary folder, and a command helper."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty store: a real SQLite file, or a fresh PostgreSQL database.

    The PostgreSQL half runs when EXTRAMILE_TEST_POSTGRES_URL names a server (each test gets a
    database of its own, dropped afterwards); without it those tests are skipped, saying so.
    """
    if request.param == "sqlite":
        yield str(tmp_path / "extramile.db")
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, for tests about PostgreSQL alone."""
    server = os.environ.get("EXTRAMILE_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PostgreSQL tests need EXTRAMILE_TEST_POSTGRES_URL "
                    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres)")
    with fresh_postgres_database(server) as url:
        yield url


@contextmanager
def fresh_postgres_database(server: str) -> Iterator[str]:
    """Create a database on the server for one test, and drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"extramile_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server must be there when it is named
        admin.dispose()
        pytest.fail(f"cannot reach PostgreSQL at {server}: {exc}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An empty store (SQLite and PostgreSQL in turn), with an admin user."""
    s = init_store(ADMIN, url=store_url, clock=FixedClock())
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
