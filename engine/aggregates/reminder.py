"""A reminder: issued once per identity (obligation, subject, kind, scheduled date)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from eventsourcing.domain import Aggregate

from engine.aggregates.base import subject_id


def reminder_key(obligation: str, subject: str, kind: str, scheduled_for: dt.date) -> str:
    return f"{obligation}|{subject}|{kind}|{scheduled_for.isoformat()}"


class Reminder(Aggregate):
    """Its id is derived from its identity, so a second issue of the same reminder cannot be
    stored (the store refuses a second creation of one id)."""

    class Issued(Aggregate.Created):
        obligation: str
        subject: str
        kind: str
        scheduled_for: dt.date
        due: dt.date
        run_on: dt.date
        to: list
        cc: list
        recorded_by: str

        def apply(self, reminder: Reminder) -> None:
            reminder.key = reminder_key(self.obligation, self.subject, self.kind,
                                        self.scheduled_for)

    @classmethod
    def issue(cls, obligation: str, subject: str, kind: str, scheduled_for: dt.date,
              **kwargs: Any) -> Reminder:
        key = reminder_key(obligation, subject, kind, scheduled_for)
        return cls._create(cls.Issued, id=subject_id("reminder", key), obligation=obligation,
                           subject=subject, kind=kind, scheduled_for=scheduled_for, **kwargs)
