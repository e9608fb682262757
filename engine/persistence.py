"""Store selection and encoding: one SQLAlchemy URL serves an SQLite file or PostgreSQL.

Everything that differs between stores lives here.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from eventsourcing.persistence import Transcoding
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url

DEFAULT_DB_FILE = "extramile.db"
APP_NAME = "extramile"  # tables extramile_events, ...


class DateAsISO(Transcoding):
    """Business dates are stored as ISO strings (the library knows datetimes, not dates)."""

    type = dt.date
    name = "date_iso"

    def encode(self, obj: dt.date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> dt.date:
        return dt.date.fromisoformat(data)


def database_url(url: str | None = None) -> str:
    """The store's URL: the argument, else EXTRAMILE_DATABASE_URL, else ./extramile.db.

    A plain path is taken as an SQLite file.
    """
    url = url or os.environ.get("EXTRAMILE_DATABASE_URL") or DEFAULT_DB_FILE
    if "://" not in url:
        url = f"sqlite:///{Path(url).resolve()}"
    return url


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    return Path(parsed.database)


def store_exists(url: str) -> bool:
    """Whether a store (its event table) is already at this URL; creates nothing."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        return False
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        return has_events_table(engine)
    finally:
        engine.dispose()


def has_events_table(engine: Engine) -> bool:
    return inspect(engine).has_table(f"{APP_NAME}_events")


def application_env(url: str, create: bool) -> dict[str, str]:
    """The eventsourcing environment for a store at `url`."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": url,
        "CREATE_TABLE": "y" if create else "n",
    }
