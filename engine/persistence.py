"""Store selection and encoding: one SQLAlchemy URL serves an SQLite file or PostgreSQL.

Everything that differs between stores lives here.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification, StoredEvent, Transcoding
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.factory import SQLAlchemyFactory
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import Table, event, insert, inspect, select
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


class Recorder(SQLAlchemyApplicationRecorder):
    """eventsourcing-sqlalchemy's recorder, writing and reading rows with SQLAlchemy Core.

    The library maps every row to an ORM object; a batch insert here is one `executemany` with
    RETURNING (ids in parameter order), and reads build the library's own record types
    directly. Locking, transactions and error translation stay the library's.
    """

    @property
    def table(self) -> Table:
        return self.events_record_cls.__table__  # type: ignore[attr-defined,no-any-return]

    def _insert_stored_events(self, session: Any, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> Sequence[int]:
        if not stored_events:
            return []
        table = self.table
        self._lock_table(session)
        rows = [{"originator_id": e.originator_id, "originator_version": e.originator_version,
                 "topic": e.topic, "state": e.state} for e in stored_events]
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(session.execute(statement, rows).scalars())
        self._notify_channel(session)
        return ids

    def select_events(self, originator_id: Any, gt: int | None = None, lte: int | None = None,
                      desc: bool = False, limit: int | None = None) -> list[StoredEvent]:
        c = self.table.c
        query = select(c.originator_id, c.originator_version, c.topic, c.state).where(
            c.originator_id == originator_id)
        if gt is not None:
            query = query.where(c.originator_version > gt)
        if lte is not None:
            query = query.where(c.originator_version <= lte)
        query = query.order_by(c.originator_version.desc() if desc else c.originator_version)
        if limit is not None:
            query = query.limit(limit)
        with self.transaction(commit=False) as session:
            return [StoredEvent(r[0], r[1], r[2], _bytes(r[3]))
                    for r in session.execute(query)]

    def select_notifications(self, start: int | None, limit: int, stop: int | None = None,
                             topics: Sequence[str] = (), *,
                             inclusive_of_start: bool = True) -> list[Notification]:
        c = self.table.c
        query = select(c.id, c.originator_id, c.originator_version, c.topic, c.state)
        if start is not None:
            query = query.where(c.id >= start if inclusive_of_start else c.id > start)
        if stop is not None:
            query = query.where(c.id <= stop)
        if topics:
            query = query.where(c.topic.in_(topics))
        query = query.order_by(c.id).limit(limit)
        with self.transaction(commit=False) as session:
            return [Notification(id=r[0], originator_id=r[1], originator_version=r[2],
                                 topic=r[3], state=_bytes(r[4]))
                    for r in session.execute(query)]


def _bytes(state: Any) -> bytes:
    return bytes(state) if isinstance(state, memoryview) else state  # type: ignore[no-any-return]


SQLITE_CACHE_KIB = 65536  # per connection; SQLite's default of 2 MiB thrashes on a large store


class Datastore(SQLAlchemyDatastore):
    """The library's datastore, with a page cache on SQLite big enough for a national store:
    with the default, inserting into the event table's index of random ids reads pages from
    disk again and again, and an import slows down as the store grows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_sqlite_filedb and isinstance(self.engine, Engine):
            event.listen(self.engine, "connect", _sqlite_cache)


def _sqlite_cache(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")


class Factory(SQLAlchemyFactory):
    """The library's SQLAlchemy persistence with the Core recorder above."""

    datastore_class = Datastore
    application_recorder_class = Recorder


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
        "PERSISTENCE_MODULE": "engine.persistence:Factory",
        "SQLALCHEMY_URL": url,
        "CREATE_TABLE": "y" if create else "n",
    }
