"""Copying a whole store to another database (SQLite to PostgreSQL, or back), verified.

Every stored event is copied in log order with its exact stored bytes (users and the reminder
ledger are events too); the target's read model is then built from them, and the copy is
checked: same event count and content, same board and overdue answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from eventsourcing.persistence import StoredEvent

from engine.errors import Rejected

CHUNK = 2000


class CopyFailed(Rejected):
    """The copy differs from its source."""


def stored_events(store: Any) -> Iterator[list[StoredEvent]]:
    """The source log in order, a chunk at a time."""
    start = 0
    while True:
        notes = store.app.recorder.select_notifications(start=start, limit=CHUNK,
                                                        inclusive_of_start=False)
        if not notes:
            return
        yield [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
               for n in notes]
        start = notes[-1].id


def copy_keys(source: Any, target: Any) -> None:
    """The per-person keys go with the events they open (a forgotten person's stays gone)."""
    from sqlalchemy import insert, select

    from engine import personal

    with source.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(personal.keys)).mappings()]
    if rows:
        with target.engine.begin() as conn:
            conn.execute(insert(personal.keys), rows)


def copy_events(source: Any, target: Any, progress: Callable[[int], None] | None = None) -> int:
    """Append every event of `source` to the (empty) `target`, in order."""
    copy_keys(source, target)
    copied = 0
    for chunk in stored_events(source):
        target.app.recorder.insert_events(chunk)
        copied += len(chunk)
        if progress is not None:
            progress(len(chunk))
    return copied


def verify(source: Any, target: Any, days: list[dt.date]) -> None:
    """Raise CopyFailed unless both stores hold the same events and give the same answers."""
    pairs = zip(_flatten(stored_events(source)), _flatten(stored_events(target)), strict=False)
    count = 0
    for count, (a, b) in enumerate(pairs, start=1):
        if (a.originator_id, a.originator_version, a.topic, bytes(a.state)) != (
                b.originator_id, b.originator_version, b.topic, bytes(b.state)):
            raise CopyFailed(f"event {count} differs ({a.topic} v{a.originator_version})")
    if source.verify_chain().head != target.verify_chain().head:
        raise CopyFailed("the copy's audit chain head differs from the source's")
    totals = (_count(source), _count(target))
    if totals[0] != totals[1] or count != totals[0]:
        raise CopyFailed(f"event counts differ: {totals[0]} in the source, {totals[1]} copied")
    for day in days:
        for query in ("overdue", "board"):
            if getattr(source.queries, query)(day) != getattr(target.queries, query)(day):
                raise CopyFailed(f"{query} as of {day} differs between source and copy")


def check_days(store: Any) -> list[dt.date]:
    """The days to compare answers on: each month end of the programme."""
    t = store.timeline
    days, day = [], t.starts
    while day <= t.ends:
        following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        days.append(following - dt.timedelta(days=1))
        day = following
    return days


def _flatten(chunks: Iterator[list[StoredEvent]]) -> Iterator[StoredEvent]:
    for chunk in chunks:
        yield from chunk


def _count(store: Any) -> int:
    return sum(len(c) for c in stored_events(store))
