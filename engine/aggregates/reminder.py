"""A reminder email: issued once per identity (obligation, subject, kind, scheduled date), then
claimed by one sender at a time, and delivered (or failed, to be retried)."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from eventsourcing.domain import Aggregate

from engine.aggregates.base import subject_id
from engine.errors import Rejected

PENDING, HELD, FAILED, DELIVERED = "pending", "held", "failed", "delivered"


def reminder_key(obligation: str, subject: str, kind: str, scheduled_for: dt.date) -> str:
    return f"{obligation}|{subject}|{kind}|{scheduled_for.isoformat()}"


def message_id(key: str, domain: str) -> str:
    """A Message-ID derived from the reminder's identity alone: the same on every attempt."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<reminder-{digest}@{domain}>"


class NotClaimable(Rejected):
    """Delivered already, or claimed by another sender whose lease has not run out."""


class Reminder(Aggregate):
    """Its id is derived from its identity, so a second issue of the same reminder cannot be
    stored (the store refuses a second creation of one id); a claim is a new version, so two
    senders cannot both claim the same version."""

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
        deliver: bool
        message_id: str
        mail_subject: str
        body: str

        def apply(self, reminder: Reminder) -> None:
            reminder.key = reminder_key(self.obligation, self.subject, self.kind,
                                        self.scheduled_for)
            reminder.to, reminder.cc = self.to, self.cc
            reminder.mail_subject, reminder.body = self.mail_subject, self.body
            reminder.message_id = self.message_id
            reminder.status = PENDING if self.deliver else HELD
            reminder.attempts = 0
            reminder.claimed_until = None

    class Claimed(Aggregate.Event):
        worker: str
        until: dt.datetime

        def apply(self, reminder: Reminder) -> None:
            reminder.claimed_until = self.until

    class Delivered(Aggregate.Event):
        via: str

        def apply(self, reminder: Reminder) -> None:
            reminder.status = DELIVERED
            reminder.attempts += 1
            reminder.claimed_until = None

    class DeliveryFailed(Aggregate.Event):
        error: str
        retry_at: dt.datetime

        def apply(self, reminder: Reminder) -> None:
            reminder.status = FAILED
            reminder.attempts += 1
            reminder.claimed_until = None

    class Released(Aggregate.Event):
        """A held reminder (issued by a simulation) released for delivery."""

        recorded_by: str

        def apply(self, reminder: Reminder) -> None:
            reminder.status = PENDING

    @classmethod
    def issue(cls, obligation: str, subject: str, kind: str, scheduled_for: dt.date,
              **kwargs: Any) -> Reminder:
        key = reminder_key(obligation, subject, kind, scheduled_for)
        return cls._create(cls.Issued, id=subject_id("reminder", key), obligation=obligation,
                           subject=subject, kind=kind, scheduled_for=scheduled_for, **kwargs)

    def claim(self, worker: str, now: dt.datetime, lease: dt.timedelta) -> None:
        if self.status in (DELIVERED, HELD):
            raise NotClaimable(f"reminder {self.key} is {self.status}")
        if self.claimed_until is not None and self.claimed_until > now:
            raise NotClaimable(f"reminder {self.key} is being sent until {self.claimed_until}")
        self.trigger_event(self.Claimed, worker=worker, until=now + lease, timestamp=now)

    def delivered(self, via: str, now: dt.datetime) -> None:
        self.trigger_event(self.Delivered, via=via, timestamp=now)

    def failed(self, error: str, now: dt.datetime, retry_at: dt.datetime) -> None:
        self.trigger_event(self.DeliveryFailed, error=error[:500], retry_at=retry_at,
                           timestamp=now)

    def release(self, recorded_by: str, now: dt.datetime) -> None:
        if self.status == HELD:
            self.trigger_event(self.Released, recorded_by=recorded_by, timestamp=now)
