"""The reminder schedule as pure functions of an instance and a day (PROGRAMME.md Reminders)."""

from __future__ import annotations

import datetime as dt

from engine.obligations import Extension, Instance, ReminderKind, Slot, latest_slot, reminder_for
from engine.timeline import Kind, ReminderPolicy

POLICY = ReminderPolicy()
DUE = dt.date(2009, 9, 30)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def deliverable(**facts: object) -> Instance:
    return Instance("school.baseline", "T1", Kind.DELIVERABLE, d("2009-07-01"), DUE, **facts)


def schedule(instance: Instance, first: str, last: str) -> list[Slot]:
    """Simulate daily runs with a ledger: what each day issues."""
    issued: set[tuple[ReminderKind, dt.date]] = set()
    out = []
    day = d(first)
    while day <= d(last):
        slot = reminder_for(instance, day, POLICY)
        if slot is not None and (slot.kind, slot.scheduled_for) not in issued:
            issued.add((slot.kind, slot.scheduled_for))
            out.append(slot)
        day += dt.timedelta(days=1)
    return out


def test_upcoming_reminders_fall_14_and_3_days_before_the_due_date() -> None:
    slots = schedule(deliverable(), "2009-09-01", "2009-09-30")
    assert [(s.kind, s.scheduled_for) for s in slots] == [
        (ReminderKind.UPCOMING, d("2009-09-16")), (ReminderKind.UPCOMING, d("2009-09-27"))]


def test_overdue_notices_come_the_day_after_and_weekly_then_escalate_after_14_days() -> None:
    slots = schedule(deliverable(), "2009-10-01", "2009-10-31")
    assert [(s.kind.value, s.scheduled_for.isoformat()) for s in slots] == [
        ("overdue", "2009-10-01"), ("overdue", "2009-10-08"), ("escalation", "2009-10-15"),
        ("escalation", "2009-10-22"), ("escalation", "2009-10-29")]


def test_a_run_after_ten_days_of_downtime_issues_one_catch_up_reminder() -> None:
    # Runs stopped after 2009-09-30 and resumed on 2009-10-10: only the latest slot (10-08).
    assert latest_slot(Kind.DELIVERABLE, DUE, d("2009-10-10"), POLICY) == Slot(
        ReminderKind.OVERDUE, d("2009-10-08"), DUE)


def test_an_extension_moves_the_schedule_to_the_new_due_date() -> None:
    extended = deliverable(extensions=(Extension(d("2009-10-05"), d("2009-10-31")),))
    slots = schedule(extended, "2009-10-01", "2009-11-01")
    assert [(s.kind.value, s.scheduled_for.isoformat(), s.due.isoformat()) for s in slots] == [
        ("overdue", "2009-10-01", "2009-09-30"),
        ("upcoming", "2009-10-17", "2009-10-31"),
        ("upcoming", "2009-10-28", "2009-10-31"),
        ("overdue", "2009-11-01", "2009-10-31")]


def test_a_waiver_or_a_withdrawal_stops_reminders() -> None:
    assert schedule(deliverable(waived_on=d("2009-09-20")), "2009-09-20", "2009-12-31") == []
    assert schedule(deliverable(withdrawn_on=d("2009-09-20")), "2009-09-20", "2009-12-31") == []


def test_nothing_is_sent_for_done_or_late_instances() -> None:
    assert schedule(deliverable(discharged_on=d("2009-09-10")), "2009-09-10", "2009-12-31") == []
    assert schedule(deliverable(discharged_on=d("2009-10-03")), "2009-10-03", "2009-12-31") == []


def test_attendance_gets_upcoming_reminders_only() -> None:
    launch = Instance("school.attend.launch", "T1", Kind.ATTENDANCE, d("2009-07-17"),
                      d("2009-07-17"))
    slots = schedule(launch, "2009-07-01", "2009-09-30")
    assert [s.kind for s in slots] == [ReminderKind.UPCOMING, ReminderKind.UPCOMING]


def test_days_across_the_clock_changes_are_whole_calendar_days() -> None:
    # 25 October 2009 and 28 March 2010: 23- and 25-hour days change nothing in the schedule.
    autumn = Instance("x", "T1", Kind.DELIVERABLE, d("2009-10-01"), d("2009-10-24"))
    assert latest_slot(autumn.kind, autumn.due, d("2009-10-25"), POLICY) == Slot(
        ReminderKind.OVERDUE, d("2009-10-25"), d("2009-10-24"))
    spring = Instance("x", "T1", Kind.DELIVERABLE, d("2010-03-01"), d("2010-03-31"))
    assert latest_slot(spring.kind, spring.due, d("2010-03-28"), POLICY) == Slot(
        ReminderKind.UPCOMING, d("2010-03-28"), d("2010-03-31"))
