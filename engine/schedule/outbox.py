"""Delivering issued reminders: claim, send, record; failures are retried with backoff.

Guarantee: at least once, with duplicates suppressed. A reminder is claimed (a new version of
its aggregate, so only one sender can claim it) before it is sent, and marked delivered right
after the transport accepts it. Only a crash in the window between the transport accepting a
message and the Delivered event being stored can send it again, after the claim's lease runs
out; the message then carries the same Message-ID.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError
from sqlalchemy import or_, select

from engine.aggregates.base import subject_id
from engine.aggregates.reminder import FAILED, PENDING, NotClaimable, Reminder
from engine.projections import tables as t
from engine.schedule.mail import NoRecipients, email_message
from engine.schedule.transport import DeliveryError, MailTransport

log = structlog.get_logger(__name__)

LEASE = dt.timedelta(minutes=10)
NEVER = dt.datetime(9999, 12, 31, tzinfo=dt.UTC)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0


def worker_name() -> str:
    import os

    return f"{socket.gethostname()}:{os.getpid()}"


class Outbox:
    """Sends what is due to be sent through one transport."""

    def __init__(self, store: Any, transport: MailTransport, sender: str,
                 lease: dt.timedelta = LEASE, worker: str | None = None) -> None:
        self.store = store
        self.transport = transport
        self.sender = sender
        self.lease = lease
        self.worker = worker or worker_name()

    def due(self, now: dt.datetime, ignore_backoff: bool) -> list[str]:
        """Keys of the reminders to try now (pending, or failed and past their backoff)."""
        self.store.projector.catch_up()
        r = t.reminders.c
        query = select(r.key).where(r.status.in_([PENDING, FAILED]),
                                    or_(r.claimed_until.is_(None), r.claimed_until <= now))
        if not ignore_backoff:
            query = query.where(or_(r.next_attempt_at.is_(None), r.next_attempt_at <= now))
        with self.store.engine.connect() as conn:
            return list(conn.execute(query.order_by(r.position)).scalars())

    def deliver(self, ignore_backoff: bool = False,
                stop: Callable[[], bool] | None = None) -> DeliveryReport:
        """Try every reminder due for delivery once; before each, give up if `stop()` says so
        (a service being stopped: what is left stays pending for the next run)."""
        report = DeliveryReport()
        # People's keys as the store holds them now: a sender runs for days, and a person
        # forgotten meanwhile by another process must read as erased here too.
        self.store.app.keyring.clear_cache()
        now = self.store.app.clock()
        for key in self.due(now, ignore_backoff):
            if stop is not None and stop():
                break
            outcome = self._deliver_one(key)
            setattr(report, outcome, getattr(report, outcome) + 1)
        self.store.projector.catch_up()
        if report.sent or report.failed:
            log.info("outbox.delivered", sent=report.sent, failed=report.failed,
                     skipped=report.skipped, via=self.transport.name)
        return report

    def _deliver_one(self, key: str) -> str:
        app = self.store.app
        reminder: Reminder = app.repository.get(subject_id("reminder", key))
        now = app.clock()
        try:
            reminder.claim(self.worker, now, self.lease)
            app.save(reminder)
        except (NotClaimable, IntegrityError):
            return "skipped"  # delivered, or another sender has it
        try:
            message = email_message(reminder, self.sender, now)
        except NoRecipients as exc:
            reminder.failed(str(exc), app.clock(), NEVER)  # nobody left to send it to
            app.save(reminder)
            return "failed"
        try:
            self.transport.send(message)
        except DeliveryError as exc:
            retry_at = now + self.store.timeline.reminders.retry_after(reminder.attempts + 1)
            reminder.failed(str(exc), app.clock(), retry_at)
            app.save(reminder)
            log.warning("outbox.failed", reminder=key, error=str(exc), retry_at=retry_at)
            return "failed"
        reminder.delivered(self.transport.name, app.clock())
        app.save(reminder)
        return "sent"
