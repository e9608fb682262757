"""Part 5, schema evolution: events stored by an older engine still load, and nothing is rewritten.

`tests/data/store-v1.db` is a store written by the engine before `ExtensionGranted` became
version 2 (its `due` renamed `new_due`, a new field `previous_due`): the sample programme imported
at commit 96f050a, with six extensions among its events. Each test works on a copy. The old events
must load through the upcaster, answer exactly as before (the sample's published overdue lists),
keep their stored bytes (so `audit verify` passes), and live alongside new version-2 events.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from engine.aggregates.base import subject_id
from engine.bootstrap import Store, open_store
from tests.conftest import ADMIN, DATA, run
from tests.reliability.clitools import describe, invoke

V1_STORE = DATA / "store-v1.db"
EXTENSION_TOPIC = "%.ExtensionGranted"  # School.ExtensionGranted, LocalAuthority...
CONTRACT = ["obligation", "subject", "responsible", "la", "due", "days_overdue"]


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A copy of the version-1 store (the checked-in file is never opened for writing), with
    its read model upgraded as a user would (`extramile db upgrade`: events untouched)."""
    copy = tmp_path / "old.db"
    shutil.copyfile(V1_STORE, copy)
    upgraded = invoke(copy, "db", "upgrade", user=ADMIN)
    assert upgraded.exit_code == 0, describe(upgraded)
    return copy


@pytest.fixture
def store(old_store: Path) -> Iterator[Store]:
    s = open_store(str(old_store))
    yield s
    s.close()


def stored_extensions(db: Path) -> list[dict]:
    """The stored state of every ExtensionGranted event, straight from the events table."""
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT state FROM extramile_events WHERE topic LIKE :t "
                                     "ORDER BY id"), {"t": EXTENSION_TOPIC}).scalars()
            return [json.loads(bytes(r)) for r in rows]
    finally:
        engine.dispose()


def stored_date(value: dict) -> str:
    """A date as the transcoder stores it ({"_type_": "date_iso", "_data_": "2010-03-15"})."""
    assert value["_type_"] == "date_iso"
    return value["_data_"]


def iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def test_the_fixture_really_holds_version_1_events(old_store: Path) -> None:
    states = stored_extensions(old_store)
    assert len(states) == 6
    for state in states:
        assert "due" in state and "new_due" not in state and "previous_due" not in state
        assert state.get("class_version", 1) == 1


def test_old_events_load_through_the_upcaster(store: Store) -> None:
    events = store.app.events_of(subject_id("school", "R001"))
    extensions = [e for e in events if type(e).__name__ == "ExtensionGranted"]
    assert [(e.obligation, e.new_due, e.previous_due) for e in extensions] == [
        ("school.lead", dt.date(2009, 12, 15), None),
        ("school.baseline", dt.date(2010, 1, 15), None),
        ("school.development_plan", dt.date(2010, 1, 31), None),
        ("school.interim_report", dt.date(2010, 3, 15), None),
    ]
    school = store.app.repository.get(subject_id("school", "R001"))
    assert school.extensions["school.interim_report"] == [(dt.date(2010, 1, 20),
                                                          dt.date(2010, 3, 15))]


def test_an_old_store_answers_as_before_after_a_full_rebuild(store: Store) -> None:
    store.projector.reset()
    store.projector.catch_up()
    published = json.loads((DATA / "sample-expected-overdue.json").read_text())
    for day, items in published.items():
        got = store.queries.overdue(dt.date.fromisoformat(day))
        assert [{k: iso(g[k]) for k in CONTRACT} for g in got] == items, day


def test_the_audit_chain_of_an_old_store_still_verifies(old_store: Path) -> None:
    result = invoke(old_store, "audit", "verify", user=ADMIN)
    assert result.exit_code == 0, describe(result)
    dues = sorted(stored_date(state["due"]) for state in stored_extensions(old_store))
    assert dues[0] == "2009-12-15"  # the stored events were not rewritten


def test_new_version_2_events_sit_beside_old_ones(store: Store, old_store: Path) -> None:
    run(store, {"cmd": "dcsf.extension_granted", "on": "2010-03-01", "by": ADMIN,
                "obligation": "school.interim_report", "subject": "R001", "due": "2010-03-31"})
    new = stored_extensions(old_store)[-1]
    assert new["class_version"] == 2
    assert stored_date(new["new_due"]) == "2010-03-31"
    assert stored_date(new["previous_due"]) == "2010-03-15"
    school = store.app.repository.get(subject_id("school", "R001"))
    assert school.extensions["school.interim_report"] == [
        (dt.date(2010, 1, 20), dt.date(2010, 3, 15)), (dt.date(2010, 3, 1), dt.date(2010, 3, 31))]
    status = {s["obligation"]: s for s in store.queries.status("R001", dt.date(2010, 3, 20))
              ["obligations"]}
    assert iso(status["school.interim_report"]["due"]) == "2010-03-31"
    result = invoke(old_store, "audit", "verify", user=ADMIN)
    assert result.exit_code == 0, describe(result)
    audit = invoke(old_store, "audit", "R001", "--format", "json", user=ADMIN)
    assert audit.exit_code == 0, describe(audit)
    payloads = [e["payload"] for e in json.loads(audit.stdout)
                if e["event"] == "ExtensionGranted"]
    assert payloads[0]["new_due"] == "2009-12-15" and payloads[0]["previous_due"] is None
    assert payloads[-1]["previous_due"] == "2010-03-15"
