"""Erasing one person: crypto-shredding keeps the log intact and the data unreadable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from engine.bootstrap import Store
from engine.personal import ERASED
from tests.conftest import ADMIN

DAY = dt.date(2010, 2, 15)
LEAD = "lead@t007.school.test"


def raw_events_mentioning(store: Store, text: str) -> int:
    table = store.app.events_table
    with store.engine.connect() as conn:
        states = conn.execute(select(table.c.state)).scalars()
        return sum(text.encode() in bytes(s) for s in states)


def test_addresses_are_not_stored_in_clear(sample_store: Store) -> None:
    assert raw_events_mentioning(sample_store, LEAD) == 0
    assert raw_events_mentioning(sample_store, "head@t001.school.test") == 0
    trail = sample_store.audit("T007")
    assert any(e["payload"].get("email") == LEAD for e in trail)


def test_a_forgotten_person_reads_as_erased_and_the_chain_still_verifies(
        sample_store: Store) -> None:
    sealed = sample_store.verify_chain()
    assert sample_store.forget(LEAD, ADMIN, DAY)
    appointment = next(e for e in sample_store.audit("T007") if e["event"] == "LeadAppointed"
                       and e["payload"]["email"] == ERASED)
    assert appointment["payload"]["name"] == ERASED
    assert sample_store.verify_chain(upto=sealed.events).head == sealed.head
    assert sample_store.verify_chain().broken is None
    erasure = sample_store.audit("dcsf")[-1]
    assert erasure["event"] == "PersonErased" and LEAD not in str(erasure)


def test_the_read_model_keeps_no_copy(sample_store: Store) -> None:
    from engine.projections import tables

    sample_store.forget(LEAD, ADMIN, DAY)
    with sample_store.engine.connect() as conn:
        people = conn.execute(select(func.count()).select_from(tables.people)
                              .where(tables.people.c.email == LEAD)).scalar()
    assert people == 0


def test_reminders_no_longer_go_to_a_forgotten_address(sample_store: Store) -> None:
    before = [r for r in sample_store.remind(DAY, ADMIN, dry_run=True) if r.subject == "T007"]
    assert any(LEAD in r.to for r in before)
    sample_store.forget(LEAD, ADMIN, DAY)
    after = [r for r in sample_store.remind(DAY, ADMIN, dry_run=True) if r.subject == "T007"]
    assert after and all(LEAD not in r.to + r.cc and ERASED not in r.to for r in after)


def test_a_pending_reminder_to_a_forgotten_address_is_not_sent(
        sample_store: Store, tmp_path) -> None:
    issued = [r for r in sample_store.remind(DAY, ADMIN) if LEAD in r.to]
    assert issued
    sample_store.forget(LEAD, ADMIN, DAY)
    outbox = tmp_path / "outbox"
    sample_store.outbox({"EXTRAMILE_MAIL_DIR": str(outbox)}).deliver()
    sent = b"".join(p.read_bytes() for p in outbox.glob("*.eml"))
    assert LEAD.encode() not in sent


def test_a_forgetting_by_another_process_stops_a_running_sender(
        sample_store: Store, tmp_path) -> None:
    """A scheduler service keeps its store open for days: a person forgotten meanwhile by
    another process (another Store on the same database) gets nothing from it either."""
    from engine.bootstrap import open_store

    issued = [r for r in sample_store.remind(DAY, ADMIN) if LEAD in r.to]
    assert issued
    assert any(e["payload"].get("email") == LEAD for e in sample_store.audit("T007"))
    with open_store(sample_store.url) as other:
        other.forget(LEAD, ADMIN, DAY)
    outbox = tmp_path / "outbox"
    report = sample_store.outbox({"EXTRAMILE_MAIL_DIR": str(outbox)}).deliver()
    assert report.sent > 0  # everybody else's reminders still go
    sent = b"".join(p.read_bytes() for p in outbox.glob("*.eml"))
    assert LEAD.encode() not in sent
