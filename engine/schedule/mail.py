"""Composing reminder emails from templates in files (engine/schedule/templates)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import Any

from engine.aggregates.reminder import message_id
from engine.personal import ERASED
from engine.schedule.reminders import Planned
from engine.timeline import Timeline


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("engine.schedule", "templates"),
                       undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)


def mail_domain(timeline: Timeline) -> str:
    return timeline.office_email.rpartition("@")[2] or "extramile.invalid"


def compose(planned: Planned, timeline: Timeline, context: dict[str, Any]) -> dict[str, str]:
    """The subject line, body and Message-ID of one reminder.

    `context` carries what the read model knows on the run's day: subject_name, la_name,
    coordinator, original_due, extensions, waivers.
    """
    o = timeline.by_id[planned.obligation]
    values = {
        "kind": planned.kind, "obligation": o.id, "title": o.title, "annex": o.annex,
        "handbook": o.handbook, "subject": planned.subject, "due": planned.due,
        "run_on": planned.date, "days_left": (planned.due - planned.date).days,
        "days_late": (planned.date - planned.due).days, "office": timeline.office_email,
        "reference": planned.key, "greeting": "Dear colleague", **context,
    }
    env = _environment()
    return {
        "mail_subject": env.get_template("subject.txt.j2").render(values).strip(),
        "body": env.get_template("body.txt.j2").render(values),
        "message_id": message_id(planned.key, mail_domain(timeline)),
    }


class NoRecipients(ValueError):
    """Every address of the reminder has been erased."""


def email_message(reminder: Any, sender: str, now: dt.datetime) -> EmailMessage:
    """The email of an issued reminder; erased addresses are left out (a forgotten person
    gets nothing more)."""
    to = [a for a in reminder.to if a != ERASED]
    cc = [a for a in reminder.cc if a != ERASED]
    if not to:
        to, cc = cc[:1], cc[1:]
    if not to:
        raise NoRecipients(f"every recipient of {reminder.key} was erased")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = reminder.mail_subject
    msg["Message-ID"] = reminder.message_id
    msg["Date"] = format_datetime(now)
    msg["X-Extramile-Reminder"] = reminder.key
    msg.set_content(reminder.body)
    return msg
