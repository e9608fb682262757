"""The composition root: wires the store, the application, the projector and the queries.

Used by the CLI, the scheduler service and the tests. Configuration is read here, when a store is
opened, never at import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from eventsourcing.persistence import IntegrityError

from engine import timeline as timeline_module
from engine.aggregates.base import content, subject_id
from engine.application import Clock, ExtraMile, LineError, utc_now
from engine.commands import VOCABULARY, Command
from engine.errors import Rejected, UnknownSubject
from engine.permissions import Forbidden
from engine.persistence import application_env, database_url, describe, store_exists
from engine.projections.projector import Projector
from engine.projections.queries import Queries
from engine.schedule.reminders import Planned

if TYPE_CHECKING:
    from engine.schedule.outbox import Outbox


log = structlog.get_logger(__name__)

WRITE_ATTEMPTS = 20


class StoreMissing(Rejected):
    def __init__(self, url: str) -> None:
        super().__init__(f"no store at {describe(url)}: create one with "
                         "'extramile init --admin EMAIL' (or set EXTRAMILE_DATABASE_URL)")


class StoreExists(Rejected):
    def __init__(self, url: str) -> None:
        super().__init__(f"a store already exists at {describe(url)}; nothing changed")


class Store:
    """One opened store: write with `execute`, read with `queries`."""

    def __init__(self, url: str, timeline: timeline_module.Timeline, clock: Clock,
                 create: bool) -> None:
        self.url = url
        self.timeline = timeline
        self.app = ExtraMile(application_env(url, create), timeline, clock)
        engine = self.app.recorder.datastore.engine  # type: ignore[attr-defined]
        self.engine = engine
        self.projector = Projector(self.app, engine, timeline)
        self.queries = Queries(engine, timeline)
        if create:
            from engine import chain, schema

            chain.metadata.create_all(engine)
            self.projector.create()
            schema.stamp(engine)

    def close(self) -> None:
        self.app.close()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, commands: Iterable[tuple[int, Command] | LineError], recorded_by: str,
                progress: Callable[[int], None] | None = None) -> int:
        """Store a batch all-or-nothing, then bring the read model up to date.

        If another writer saved one of the batch's aggregates first, the batch is re-read and
        re-checked from the start (`commands` is iterated again: a list, or a re-readable
        source such as engine.importing.CommandFile): it is stored if still valid, else
        refused by the rules.
        """
        if isinstance(commands, Iterator):
            commands = list(commands)
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                count = self.app.execute(commands, recorded_by, progress)
                break
            except IntegrityError:
                log.info("execute.conflict", attempt=attempt)
                if attempt == WRITE_ATTEMPTS:
                    raise Rejected("others kept changing the same records; nothing stored, "
                                   "try again") from None
        self.projector.catch_up()
        return count

    def add_user(self, email: str, role: str, la: str | None, added_by: str) -> None:
        self.app.principal(added_by).require("users", "manage users")
        self.app.add_user(email, role, la, added_by)
        self.projector.catch_up()

    def revoke_user(self, email: str, revoked_by: str) -> None:
        self.app.principal(revoked_by).require("users", "manage users")
        self.app.revoke_user(email, revoked_by)
        self.projector.catch_up()

    def issued_keys(self) -> set[str]:
        from sqlalchemy import select

        from engine.projections import tables

        with self.engine.connect() as conn:
            return set(conn.execute(select(tables.reminders.c.key)).scalars())

    def remind(self, day: dt.date, recorded_by: str, dry_run: bool = False) -> list[Planned]:
        """Issue the reminders due on `day` (exactly once each), for delivery; return them."""
        return self.simulate(day, day, recorded_by, dry_run, deliver=True)

    def simulate(self, first: dt.date, last: dt.date, recorded_by: str, dry_run: bool = False,
                 progress: Callable[[int], None] | None = None,
                 deliver: bool = False) -> list[Planned]:
        """Run the reminder day by day from `first` to `last`, against the state as of each
        day; record what is issued unless `dry_run`. Reminders recorded without `deliver` are
        held: never sent (a backfill floods nobody)."""
        from engine.schedule.reminders import plan

        principal = self.app.principal(recorded_by)
        principal.require("read" if dry_run else "remind",
                          "preview reminders" if dry_run else "issue reminders")
        if principal.la_scope is not None:  # reminders span every LA
            raise Forbidden(principal.email, principal.role, "preview the programme's reminders")
        issued = self.issued_keys()
        planned: list[Planned] = []
        day = first
        while day <= last:
            todays = plan(self.queries, day, issued)
            issued.update(p.key for p in todays)
            planned.extend(todays)
            day += dt.timedelta(days=1)
            if progress is not None:
                progress(1)
        if planned and not dry_run:
            planned = self.app.record_reminders(planned, recorded_by, deliver)
            self.projector.catch_up()
        return planned

    def outbox(self, env: Mapping[str, str] | None = None) -> Outbox:
        """The outbox delivering through the transport the environment configures."""
        import os

        from engine.schedule.outbox import Outbox
        from engine.schedule.transport import transport_from_env

        env = os.environ if env is None else env
        sender = env.get("EXTRAMILE_MAIL_FROM") or self.timeline.office_email
        return Outbox(self, transport_from_env(env), sender)

    def forget(self, email: str, erased_by: str, on: dt.date) -> bool:
        """Erase one person: destroy their key, record that it was done, rebuild the read
        model so no copy of their data is left in it. True if the person had data."""
        from engine import personal
        from engine.aggregates.programme import Programme

        principal = self.app.principal(erased_by)
        principal.require("users", "erase personal data")
        had = self.app.keyring.forget(email)
        uow_programme = self._programme(erased_by, on)
        uow_programme.record(Programme.PersonErased, person=personal.person_of(email), on=on,
                             by=principal.email, recorded_by=principal.email,
                             timestamp=self.app.clock())
        self.app.save(uow_programme)
        self.projector.reset()
        self.projector.catch_up()
        return had

    def _programme(self, by: str, on: dt.date) -> Any:
        from eventsourcing.application import AggregateNotFoundError

        from engine.aggregates.base import subject_id
        from engine.aggregates.programme import PROGRAMME, Programme

        try:
            return self.app.repository.get(subject_id("programme", PROGRAMME))
        except AggregateNotFoundError:
            return Programme.open(on=on, by=by, recorded_by=by, timestamp=self.app.clock())

    def known_at(self, moment: dt.datetime) -> Queries:
        """Queries over what was recorded at or before `moment` (a read model built in memory
        from those events alone)."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import StaticPool

        memory = create_engine("sqlite://", poolclass=StaticPool,
                               connect_args={"check_same_thread": False})
        projector = Projector(self.app, memory, self.timeline, known_at=moment)
        projector.create()
        projector.catch_up()
        return Queries(memory, self.timeline)

    def verify_chain(self, upto: int | None = None) -> Any:
        from engine import chain

        return chain.verify(self.engine, self.app.events_table, upto)

    def subject_of_aggregate(self, aggregate_id: str) -> str | None:
        from sqlalchemy import select

        from engine.projections import tables

        with self.engine.connect() as conn:
            return conn.execute(select(tables.subjects.c.subject).where(
                tables.subjects.c.aggregate_id == str(aggregate_id))).scalar()

    def audit(self, subject: str) -> list[dict[str, Any]]:
        """Every recorded event about a subject, oldest first, with who and when."""
        info = self.queries.subject(subject)
        kind = info["kind"]
        events = self.app.events_of(subject_id(kind, subject))
        if not events:
            raise UnknownSubject("subject", subject)
        return [audit_entry(e) for e in events]


def audit_entry(event: Any) -> dict[str, Any]:
    return {
        "event": type(event).__qualname__.split(".")[-1],
        "command": getattr(event, "command", None),
        "on": getattr(event, "on", None),
        "by": getattr(event, "by", None),
        "recorded_at": event.timestamp,
        "recorded_by": event.recorded_by,
        "version": event.originator_version,
        "payload": content(event),
    }


class StoreOutdated(Rejected):
    def __init__(self, found: str | None, needed: str) -> None:
        super().__init__(f"the store's read model is at revision {found or 'none'}, this engine "
                         f"needs {needed}: run 'extramile db upgrade' (events are not touched)")


def open_store(url: str | None = None, timeline_path: str | Path | None = None,
               clock: Clock = utc_now, upgrading: bool = False) -> Store:
    """Open an existing store (StoreMissing if there is none, StoreOutdated if its read model
    needs `db upgrade`, unless `upgrading`)."""
    from engine import schema

    resolved = database_url(url)
    if not store_exists(resolved):
        raise StoreMissing(resolved)
    store = Store(resolved, load_timeline(timeline_path), clock, create=False)
    from engine import chain

    chain.metadata.create_all(store.engine)
    if upgrading:
        return store
    found, needed = schema.current(store.engine), schema.HEAD
    if found != needed:
        store.close()
        raise StoreOutdated(found, needed)
    store.projector.create()
    store.projector.catch_up()
    return store


def init_store(admin: str, url: str | None = None, timeline_path: str | Path | None = None,
               clock: Clock = utc_now) -> Store:
    """Create a new store and register its first user, an admin."""
    resolved = database_url(url)
    if store_exists(resolved):
        raise StoreExists(resolved)
    timeline = load_timeline(timeline_path)
    store = Store(resolved, timeline, clock, create=True)
    store.app.add_user(admin, "admin", None, added_by=admin.lower())
    store.projector.catch_up()
    return store


def load_timeline(path: str | Path | None = None) -> timeline_module.Timeline:
    return timeline_module.load(path, VOCABULARY)


def today_in(timezone: str) -> dt.date:
    """Today's date in the programme's timezone (for CLI defaults only)."""
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(timezone)).date()
