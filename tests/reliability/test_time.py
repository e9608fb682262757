"""Part 6, time: a due date ends at midnight Europe/London, on both sides of the programme's
clock changes (BST ended 25 Oct 2009, began 28 Mar 2010); `--as-of`, the CLI's default day and
the scheduler agree on which day it is at 23:30 and at 00:30 London time.

Four trial schools submit their plans so that DCSF's feedback (due 14 days later) falls due on
24 Oct 2009 (BST), 25 Oct 2009 (the change back), 27 Mar 2010 (GMT) and 28 Mar 2010 (the change
forward). At 00:30 London on 25 Oct 2009 and on 29 Mar 2010 it is still the previous day in UTC,
so a clock read in UTC would get those wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from engine.bootstrap import open_store, today_in
from engine.schedule.service import SchedulerService
from tests.builders import baseline, cluster, plan
from tests.reliability.clitools import ADMIN, describe, init, invoke

LONDON = ZoneInfo("Europe/London")
OBLIGATION = "dcsf.plan_feedback"
DUE = {  # school: the day its plan feedback is due (plan submitted 14 days before)
    "T1": dt.date(2009, 10, 24),
    "T2": dt.date(2009, 10, 25),
    "T3": dt.date(2010, 3, 27),
    "T4": dt.date(2010, 3, 28),
}
DAY = dt.timedelta(days=1)


def build(path: Path) -> Path:
    """A store with an LA, four baselined trial schools and their plans."""
    db = path / "extramile.db"
    init(db)
    lines = [*cluster(), *(baseline(s) for s in DUE),
             *(plan(s, (due - 14 * DAY).isoformat()) for s, due in DUE.items())]
    commands = path / "programme.jsonl"
    commands.write_text("".join(json.dumps(c) + "\n" for c in lines), encoding="utf-8")
    result = invoke(db, "import", str(commands))
    assert result.exit_code == 0, describe(result)
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("time"))


def london(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """A London wall-clock moment, as UTC (what the system clock holds)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute,
                       tzinfo=LONDON).astimezone(dt.UTC)


# (school, moment in UTC, the London day then, overdue then?)
MOMENTS = [
    pytest.param(school, london(due, 23, 30), due, False, id=f"{school}-{due}-23:30")
    for school, due in DUE.items()
] + [
    pytest.param(school, london(due + DAY, 0, 30), due + DAY, True,
                 id=f"{school}-{due + DAY}-00:30")
    for school, due in DUE.items()
]


def test_the_moments_straddle_utc_midnight_where_it_matters():
    """The premise: at 00:30 London on 25 Oct 2009 and 29 Mar 2010 UTC is a day behind."""
    assert london(dt.date(2009, 10, 25), 0, 30).date() == dt.date(2009, 10, 24)
    assert london(dt.date(2010, 3, 29), 0, 30).date() == dt.date(2010, 3, 28)
    assert london(dt.date(2009, 10, 26), 0, 30).utcoffset() == dt.timedelta(0)  # GMT again
    assert london(dt.date(2010, 3, 28), 23, 30).hour == 22  # BST from 28 Mar


def feedback(db: Path, school: str, *as_of: str) -> dict:
    result = invoke(db, "status", school, *as_of, "--format", "json")
    assert result.exit_code == 0, describe(result)
    found = [o for o in json.loads(result.stdout)["obligations"] if o["obligation"] == OBLIGATION]
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize("school", list(DUE))
def test_a_due_date_ends_at_the_end_of_that_day(db, school):
    due = DUE[school]
    on_the_day = feedback(db, school, "--as-of", due.isoformat())
    assert on_the_day["due"] == due.isoformat()
    assert on_the_day["status"] == "open" and not on_the_day["days_overdue"]
    next_day = feedback(db, school, "--as-of", (due + DAY).isoformat())
    assert next_day["status"] == "overdue" and next_day["days_overdue"] == 1


@pytest.mark.parametrize(("school", "moment", "day", "overdue"), MOMENTS)
def test_the_cli_default_day_is_the_london_day(db, school, moment, day, overdue):
    explicit = ["--as-of", day.isoformat()]
    wanted_status = invoke(db, "status", school, *explicit, "--format", "json")
    wanted_overdue = invoke(db, "overdue", *explicit, "--responsible", "dcsf", "--format", "json")
    with freeze_time(moment):
        assert today_in("Europe/London") == day
        status = invoke(db, "status", school, "--format", "json")
        overdue_now = invoke(db, "overdue", "--responsible", "dcsf", "--format", "json")
    assert status.exit_code == 0 and overdue_now.exit_code == 0, describe(status)
    assert status.stdout == wanted_status.stdout
    assert overdue_now.stdout == wanted_overdue.stdout
    listed = {(o["obligation"], o["subject"]): o for o in json.loads(overdue_now.stdout)}
    if overdue:
        assert listed[(OBLIGATION, school)]["days_overdue"] == 1
    else:
        assert (OBLIGATION, school) not in listed


def issued(rows: list[dict]) -> set[tuple[str, str, str, str]]:
    return {(r["date"], r["obligation"], r["subject"], r["kind"]) for r in rows}


@pytest.mark.parametrize(("school", "moment", "day", "overdue"),
                         [m for m in MOMENTS if m.values[0] in ("T1", "T4")])
def test_the_scheduler_and_remind_as_of_agree_on_the_day(tmp_path, monkeypatch, school, moment,
                                                         day, overdue):
    db = build(tmp_path)
    preview = invoke(db, "remind", "--dry-run", "--as-of", day.isoformat(), "--format", "json")
    assert preview.exit_code == 0, describe(preview)
    expected = issued(json.loads(preview.stdout))
    assert expected  # the day has reminders to agree on
    # The scheduler's daily run at that moment, in this process. Only the day it picks runs
    # under the frozen clock (freezegun's fake datetimes, which SQLAlchemy also hands back
    # when reading, cannot be stored); the reminders of that day are then issued for real.
    monkeypatch.setenv("EXTRAMILE_MAIL_DIR", str(tmp_path / "outbox"))
    store = open_store(str(db))
    try:
        remind = store.remind
        days: list[dt.date] = []
        monkeypatch.setattr(store, "remind", lambda d, *a, **k: days.append(d) or [])
        with freeze_time(moment):
            SchedulerService(store, ADMIN).run_daily()
        assert days == [day]
        remind(dt.date.fromordinal(days[0].toordinal()), ADMIN)  # a real date, not a fake
    finally:
        store.close()
    ledger = invoke(db, "reminders", "--format", "json")
    assert ledger.exit_code == 0, describe(ledger)
    assert issued(json.loads(ledger.stdout)) == expected
    mine = {r for r in expected if r[1] == OBLIGATION and r[2] == school}
    if overdue:  # the first overdue reminder goes the day after the due date
        assert mine == {(day.isoformat(), OBLIGATION, school, "overdue")}
    else:
        assert not any(kind == "overdue" for *_, kind in mine)


@pytest.mark.parametrize(("now", "fires"), [
    (london(dt.date(2009, 10, 23), 12, 0), dt.datetime(2009, 10, 24, 5, 0, tzinfo=dt.UTC)),
    (london(dt.date(2009, 10, 24), 12, 0), dt.datetime(2009, 10, 25, 6, 0, tzinfo=dt.UTC)),
    (london(dt.date(2010, 3, 26), 12, 0), dt.datetime(2010, 3, 27, 6, 0, tzinfo=dt.UTC)),
    (london(dt.date(2010, 3, 27), 12, 0), dt.datetime(2010, 3, 28, 5, 0, tzinfo=dt.UTC)),
], ids=["24oct2009-bst", "25oct2009-gmt", "27mar2010-gmt", "28mar2010-bst"])
def test_the_daily_run_is_at_six_london_time_on_both_sides_of_a_change(tmp_path, monkeypatch,
                                                                       now, fires):
    from apscheduler.schedulers.blocking import BlockingScheduler

    db = build(tmp_path)
    monkeypatch.setattr(BlockingScheduler, "start", lambda self, *a, **k: None)
    saved = {n: signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGINT)}  # run() sets them
    store = open_store(str(db))
    try:
        service = SchedulerService(store, ADMIN)
        service.run()  # sets the jobs up; start() is a no-op here
        daily = service._scheduler.get_job("daily")
        fire = daily.trigger.get_next_fire_time(None, now)
    finally:
        store.close()
        for signum, handler in saved.items():
            signal.signal(signum, handler)
    assert fire == fires
    assert fire.astimezone(LONDON).time() == dt.time(6, 0)
    with freeze_time(fire):
        assert today_in("Europe/London") == fire.astimezone(LONDON).date()
