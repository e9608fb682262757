"""Tamper evidence: every stored event is chained by a SHA-256 hash over the previous link and
the event's stored bytes.

Links are written in the same transaction as the events they cover, while the event table is
locked for writing, so the chain grows in log order. `verify` recomputes it from the event rows
and names the first place where a row was edited, deleted, inserted or reordered behind the
engine's back. It cannot tell that someone who can write the database rewrote events *and* the
chain consistently: an external witness of `seal`'s head hash can.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.engine import Connection, Engine

GENESIS = "0" * 64
CHUNK = 5000

metadata = MetaData()
links = Table(
    "em_chain", metadata,
    Column("position", BigInteger, primary_key=True),  # the event's notification id
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True)),
    Column("link", String(64), nullable=False),
)


def link_of(previous: str, row: Any) -> str:
    """The link after `previous` for one stored event row."""
    digest = hashlib.sha256()
    digest.update(previous.encode())
    digest.update(f"|{row.originator_id}|{row.originator_version}|{row.topic}|".encode())
    state = row.state
    digest.update(state.encode() if isinstance(state, str) else bytes(state))
    return digest.hexdigest()


def extend(session: Any, recordings: Any,
           recorded: dict[tuple[str, int], dt.datetime]) -> None:
    """Chain this transaction's own new events (the library's recordings, with the stored
    bytes and notification ids) in log order."""
    if not recordings:
        return
    last = session.execute(select(links.c.position, links.c.link)
                           .order_by(links.c.position.desc()).limit(1)).first()
    link = last.link if last else GENESIS
    new = []
    for notification in sorted((r.notification for r in recordings), key=lambda n: n.id):
        key = (str(notification.originator_id), notification.originator_version)
        link = link_of(link, notification)
        new.append({"position": notification.id, "originator_id": key[0],
                    "originator_version": key[1], "recorded_at": recorded[key], "link": link})
    session.execute(links.insert(), new)


def rebuild(engine: Engine, events: Any) -> int:
    """Chain every event of a store from scratch (a copied store); return the count."""
    with engine.begin() as conn:
        conn.execute(links.delete())
        link, batch, count = GENESIS, [], 0
        for row in conn.execute(select(events).order_by(events.c.id)):
            link = link_of(link, row)
            batch.append({"position": row.id, "originator_id": str(row.originator_id),
                          "originator_version": row.originator_version, "recorded_at": None,
                          "link": link})
            count += 1
            if len(batch) >= CHUNK:
                conn.execute(links.insert(), batch)
                batch = []
        if batch:
            conn.execute(links.insert(), batch)
    return count


@dataclass(frozen=True)
class Break:
    """The first broken link: where and what."""

    position: int
    originator_id: str
    version: int
    recorded_at: Any
    what: str


@dataclass(frozen=True)
class Result:
    events: int
    head: str
    broken: Break | None


def verify(engine: Engine, events: Any, upto: int | None = None) -> Result:
    """Recompute the chain over the event rows (the first `upto`, or all) and compare it
    with the stored links."""
    link, count = GENESIS, 0
    with engine.connect() as chain_conn, engine.connect() as event_conn:
        stored = _iterate(chain_conn, select(links).order_by(links.c.position))
        rows = _iterate(event_conn, select(events).order_by(events.c.id))
        chained, row = next(stored, None), next(rows, None)
        while (row is not None or chained is not None) and (upto is None or count < upto):
            if row is None or (chained is not None and chained.position < row.id):
                assert chained is not None
                return Result(count, link, Break(
                    chained.position, chained.originator_id, chained.originator_version,
                    chained.recorded_at, "deleted"))
            if chained is None or chained.position > row.id:
                return Result(count, link, Break(
                    row.id, str(row.originator_id), row.originator_version, None,
                    "inserted (not written by the engine)"))
            link = link_of(link, row)
            same_event = (str(row.originator_id), row.originator_version) == (
                chained.originator_id, chained.originator_version)
            if link != chained.link or not same_event:
                return Result(count, link, Break(
                    row.id, chained.originator_id, chained.originator_version,
                    chained.recorded_at, "changed or reordered"))
            count += 1
            chained, row = next(stored, None), next(rows, None)
    return Result(count, link, None)


def _iterate(conn: Connection, query: Any) -> Iterator[Any]:
    yield from conn.execution_options(yield_per=CHUNK).execute(query)
