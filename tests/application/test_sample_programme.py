"""The shared sample programme gives exactly the published answers."""

from __future__ import annotations

import datetime as dt
import json

from engine.bootstrap import Store
from tests.conftest import ADMIN, DATA

CONTRACT = ["obligation", "subject", "responsible", "la", "due", "days_overdue"]
REMINDER_KEYS = ["date", "obligation", "subject", "kind", "scheduled_for", "due"]


def iso(value: object) -> object:
    return value.isoformat() if isinstance(value, dt.date) else value


def expected(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_overdue_lists_match_the_expected_answers(sample_store: Store) -> None:
    for day, items in expected("sample-expected-overdue.json").items():
        got = sample_store.queries.overdue(dt.date.fromisoformat(day))
        assert [{k: iso(g[k]) for k in CONTRACT} for g in got] == items, day


def test_stages_match_the_expected_answers(sample_store: Store) -> None:
    for day, stages in expected("sample-expected-stages.json").items():
        assert sample_store.queries.stages(dt.date.fromisoformat(day)) == stages, day


def test_a_year_of_reminders_matches_the_expected_answers(sample_store: Store) -> None:
    issued = sample_store.simulate(dt.date(2009, 5, 1), dt.date(2010, 9, 30), ADMIN)
    got = [{k: iso(getattr(r, k)) for k in REMINDER_KEYS} for r in issued]
    assert got == json.loads((DATA / "sample-expected-reminders.json").read_text())


def test_a_second_simulation_over_the_same_range_issues_nothing(sample_store: Store) -> None:
    first = sample_store.simulate(dt.date(2009, 5, 1), dt.date(2010, 9, 30), ADMIN)
    assert first
    assert sample_store.simulate(dt.date(2009, 5, 1), dt.date(2010, 9, 30), ADMIN) == []


def test_a_dry_run_records_nothing(sample_store: Store) -> None:
    dry = sample_store.simulate(dt.date(2009, 6, 1), dt.date(2009, 7, 31), ADMIN, dry_run=True)
    assert dry
    assert sample_store.issued_keys() == set()
    assert sample_store.simulate(dt.date(2009, 6, 1), dt.date(2009, 7, 31), ADMIN) == dry


def test_a_rebuild_gives_the_same_answers(sample_store: Store) -> None:
    day = dt.date(2010, 2, 15)
    before = (sample_store.queries.overdue(day), sample_store.queries.status("T003", day),
              sample_store.queries.board(day))
    sample_store.projector.reset()
    sample_store.projector.catch_up()
    after = (sample_store.queries.overdue(day), sample_store.queries.status("T003", day),
             sample_store.queries.board(day))
    assert after == before
