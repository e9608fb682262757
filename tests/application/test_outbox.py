"""The outbox stopping part-way: a service being stopped leaves the rest pending, lost to none."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from engine.bootstrap import Store
from engine.schedule.outbox import Outbox
from engine.schedule.transport import MailTransport
from tests.conftest import ADMIN

DAY = dt.date(2010, 2, 15)


class Recording(MailTransport):
    """Our transport port, keeping what it is handed."""

    name = "recording"

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def test_a_stopped_delivery_pass_leaves_the_rest_pending_for_the_next(
        sample_store: Store) -> None:
    issued = sample_store.remind(DAY, ADMIN)
    assert len(issued) > 3
    transport = Recording()
    outbox = Outbox(sample_store, transport, "office@extramile.dcsf.test")
    report = outbox.deliver(stop=lambda: len(transport.sent) >= 2)
    assert report.sent == 2 and len(transport.sent) == 2
    assert len(sample_store.queries.reminders(["pending"])) == len(issued) - 2
    rest = outbox.deliver()
    assert rest.sent == len(issued) - 2
    ids = [m["Message-ID"] for m in transport.sent]
    assert len(ids) == len(set(ids)) == len(issued)
