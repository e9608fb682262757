"""Pure obligation maths: due date in force, status as of a day, reminder schedule.

Everything here is a function of an obligation instance's dated facts and a day; nothing reads
the clock or storage. PROGRAMME.md's "Status" and "Reminders" sections, rule by rule.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from engine.timeline import Kind, ReminderPolicy

DAY = dt.timedelta(days=1)


class Status(StrEnum):
    WITHDRAWN = "withdrawn"
    WAIVED = "waived"
    DONE = "done"
    LATE = "late"
    MISSED = "missed"
    OVERDUE = "overdue"
    UPCOMING = "upcoming"
    OPEN = "open"


class ReminderKind(StrEnum):
    UPCOMING = "upcoming"
    OVERDUE = "overdue"
    ESCALATION = "escalation"


REMINDABLE = frozenset({Status.OPEN, Status.UPCOMING, Status.OVERDUE})


@dataclass(frozen=True, slots=True)
class Extension:
    granted_on: dt.date
    due: dt.date


@dataclass(frozen=True, slots=True)
class Retraction:
    """A discharge that counted from `discharged_on` until it was retracted."""

    discharged_on: dt.date
    retracted_on: dt.date


@dataclass(frozen=True, slots=True)
class Instance:
    """The dated facts of one obligation instance (one obligation, one subject).

    `exists_from` is the subject's registration (or the trigger's date for a relative
    obligation); None means it always existed (the programme's own obligations).
    """

    obligation: str
    subject: str
    kind: Kind
    opens: dt.date
    due: dt.date
    exists_from: dt.date | None = None
    discharged_on: dt.date | None = None
    waived_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    extensions: tuple[Extension, ...] = field(default=())
    retracted: tuple[Retraction, ...] = field(default=())

    def discharge_as_of(self, day: dt.date) -> dt.date | None:
        """The date of the discharge that counts on `day`, if any (a retracted one counts
        until its retraction; a submission made again is dated on or after it)."""
        if self.discharged_on is not None and self.discharged_on <= day:
            return self.discharged_on
        for r in self.retracted:
            if r.discharged_on <= day < r.retracted_on:
                return r.discharged_on
        return None

    def exists_on(self, day: dt.date) -> bool:
        return self.exists_from is None or self.exists_from <= day

    def due_in_force(self, day: dt.date) -> dt.date:
        """The latest extension granted on or before `day`, else the timeline's due date."""
        granted = [e for e in self.extensions if e.granted_on <= day]
        if not granted:
            return self.due
        # Each extension must be later than the one before, so the latest grant has the
        # latest date; max() also settles two grants on the same day.
        return max(granted, key=lambda e: (e.granted_on, e.due)).due

    def status(self, day: dt.date) -> Status:
        """Status as of `day`; only facts dated on or before it count."""
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return Status.WITHDRAWN
        if self.waived_on is not None and self.waived_on <= day:
            return Status.WAIVED
        due = self.due_in_force(day)
        discharged = self.discharge_as_of(day)
        if discharged is not None:
            return Status.DONE if discharged <= due else Status.LATE
        if day > due:
            return Status.MISSED if self.kind is Kind.ATTENDANCE else Status.OVERDUE
        if day < self.opens:
            return Status.UPCOMING
        return Status.OPEN

    def days_overdue(self, day: dt.date) -> int:
        return (day - self.due_in_force(day)).days


@dataclass(frozen=True, slots=True)
class Slot:
    """One scheduled reminder: its identity is (obligation, subject, kind, scheduled_for)."""

    kind: ReminderKind
    scheduled_for: dt.date
    due: dt.date


def latest_slot(
    kind: Kind, due: dt.date, day: dt.date, policy: ReminderPolicy
) -> Slot | None:
    """The latest reminder scheduled on or before `day` for an instance due on `due`."""
    if day <= due:
        befores = [due - n * DAY for n in policy.upcoming_days_before if due - n * DAY <= day]
        return Slot(ReminderKind.UPCOMING, max(befores), due) if befores else None
    if kind is Kind.ATTENDANCE:
        return None
    late = (day - due).days
    if late < policy.overdue_first_after:
        befores = [due - n * DAY for n in policy.upcoming_days_before]
        return Slot(ReminderKind.UPCOMING, max(befores), due) if befores else None
    steps = (late - policy.overdue_first_after) // policy.overdue_every
    after = policy.overdue_first_after + steps * policy.overdue_every
    notice = ReminderKind.ESCALATION if after > policy.escalate_after else ReminderKind.OVERDUE
    return Slot(notice, due + after * DAY, due)


def reminder_for(instance: Instance, day: dt.date, policy: ReminderPolicy) -> Slot | None:
    """The reminder a run on `day` should issue for this instance, if it is still owed one.

    Whether it was issued before is the caller's ledger's business.
    """
    if not instance.exists_on(day) or instance.status(day) not in REMINDABLE:
        return None
    return latest_slot(instance.kind, instance.due_in_force(day), day, policy)
