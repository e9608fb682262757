"""Tamper evidence: rows changed behind the engine's back break the hash chain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update

from engine.bootstrap import Store
from tests.builders import cmd
from tests.conftest import run


def events(store: Store):
    return store.app.events_table


def row(store: Store, position: int):
    table = events(store)
    with store.engine.connect() as conn:
        return conn.execute(select(table).where(table.c.id == position)).one()


def set_state(store: Store, position: int, state: bytes) -> None:
    table = events(store)
    with store.engine.begin() as conn:
        conn.execute(update(table).where(table.c.id == position).values(state=state))


def test_an_untouched_store_verifies(sample_store: Store) -> None:
    result = sample_store.verify_chain()
    assert result.broken is None
    assert result.events == sample_store.app.recorder.max_notification_id()


def test_an_edited_event_is_named(sample_store: Store) -> None:
    original = bytes(row(sample_store, 30).state)
    set_state(sample_store, 30, original.replace(b'"20', b'"19', 1))
    broken = sample_store.verify_chain().broken
    assert broken is not None
    assert (broken.position, broken.what) == (30, "changed or reordered")
    assert broken.recorded_at is not None


def test_a_deleted_event_is_named(sample_store: Store) -> None:
    table = events(sample_store)
    with sample_store.engine.begin() as conn:
        conn.execute(table.delete().where(table.c.id == 42))
    broken = sample_store.verify_chain().broken
    assert broken is not None and (broken.position, broken.what) == (42, "deleted")


def test_an_inserted_event_is_named(sample_store: Store) -> None:
    source = row(sample_store, 12)
    table = events(sample_store)
    with sample_store.engine.begin() as conn:
        conn.execute(insert(table).values(originator_id=source.originator_id,
                                          originator_version=source.originator_version + 1000,
                                          topic=source.topic, state=source.state))
    broken = sample_store.verify_chain().broken
    assert broken is not None and broken.what.startswith("inserted")
    assert broken.version == source.originator_version + 1000


def test_reordered_events_are_named(sample_store: Store) -> None:
    first, second = row(sample_store, 50), row(sample_store, 51)
    set_state(sample_store, 50, bytes(second.state))
    set_state(sample_store, 51, bytes(first.state))
    broken = sample_store.verify_chain().broken
    assert broken is not None and broken.position == 50


def test_a_seal_covers_what_came_before_it(sample_store: Store) -> None:
    sealed = sample_store.verify_chain()
    run(sample_store, cmd("school.lead_appointed", "2010-05-10", by="head@t001.school.test",
                          school="T001", name="Next Lead", email="next@t001.school.test"))
    assert sample_store.verify_chain(upto=sealed.events).head == sealed.head
    assert sample_store.verify_chain().head != sealed.head


def test_events_recorded_later_change_the_answer_as_of_a_day_but_not_as_known_before(
        sample_store: Store) -> None:
    day = dt.date(2009, 10, 15)
    before = sample_store.app.clock()
    late = cmd("school.lead_appointed", "2009-10-01", by="head@t003.school.test", school="T003",
               name="A Late Lead", email="late@t003.school.test")
    run(sample_store, late)
    now = {(o["obligation"], o["subject"]) for o in sample_store.queries.overdue(day)}
    then = {(o["obligation"], o["subject"]) for o in sample_store.known_at(before).overdue(day)}
    assert ("school.lead", "T003") in then
    assert ("school.lead", "T003") not in now
    assert then - now == {("school.lead", "T003")}


@pytest.mark.parametrize("query", ["status", "board"])
def test_known_at_the_latest_moment_equals_the_live_read_model(
        sample_store: Store, query: str) -> None:
    day = dt.date(2010, 2, 15)
    known = sample_store.known_at(sample_store.app.clock())
    args = ("T003", day) if query == "status" else (day,)
    assert getattr(known, query)(*args) == getattr(sample_store.queries, query)(*args)
