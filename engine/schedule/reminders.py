"""Which reminders a run on a given day issues, and to whom (PROGRAMME.md "Reminders").

A pure function of the timeline, the read model as of the day, and the ledger of reminders
issued before; the caller records what it returns.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import or_, select

from engine.aggregates.reminder import reminder_key
from engine.obligations import ReminderKind, reminder_for
from engine.personal import ERASED
from engine.projections import tables as t
from engine.projections.queries import Queries


@dataclass(frozen=True)
class Planned:
    """A reminder a run decided to issue."""

    date: dt.date
    obligation: str
    subject: str
    kind: str
    scheduled_for: dt.date
    due: dt.date
    to: list[str]
    cc: list[str]
    la: str | None
    responsible: str
    # What the email says besides the above (names, history); not part of the output.
    context: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        return reminder_key(self.obligation, self.subject, self.kind, self.scheduled_for)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in OUTPUT}


OUTPUT = ("date", "obligation", "subject", "kind", "scheduled_for", "due", "to", "cc", "la",
          "responsible")


def plan(queries: Queries, day: dt.date, issued: Collection[str]) -> list[Planned]:
    """The reminders a run on `day` issues: for each open, upcoming or overdue instance the
    latest one scheduled on or before `day`, unless it was issued before."""
    timeline = queries.timeline
    policy = timeline.reminders
    i = t.instances.c
    # The earliest reminder comes the longest notice before the due date in force, which is
    # never earlier than the timeline's due date: nothing is due for a later instance yet.
    horizon = day + dt.timedelta(days=max(policy.upcoming_days_before, default=0))
    live = [
        i.due <= horizon,
        or_(i.discharged_on.is_(None), i.discharged_on > day),
        or_(i.waived_on.is_(None), i.waived_on > day),
        or_(i.withdrawn_on.is_(None), i.withdrawn_on > day),
    ]
    found = []
    with queries.engine.connect() as conn:
        rows = queries.rows(day, *live, conn=conn)
        recipients = Recipients(queries, conn, day)
        for row in rows:
            slot = reminder_for(row.instance, day, policy)
            if slot is None:
                continue
            key = reminder_key(row.instance.obligation, row.instance.subject, slot.kind.value,
                               slot.scheduled_for)
            if key in issued:
                continue
            to, cc = recipients.of(row.responsible, row.instance.subject, row.la)
            if slot.kind is ReminderKind.ESCALATION and timeline.office_email not in (*to, *cc):
                cc = [*cc, timeline.office_email]
            found.append((row.ordinal, slot.due, row.seq, Planned(
                day, row.instance.obligation, row.instance.subject, slot.kind.value,
                slot.scheduled_for, slot.due, to, cc, row.la, row.responsible,
                recipients.context(row))))
    found.sort(key=lambda f: f[:3])
    return [f[3] for f in found]


class Recipients:
    """Who a reminder goes to, as of the run's day."""

    def __init__(self, queries: Queries, conn: Any, day: dt.date) -> None:
        self.queries, self.conn, self.day = queries, conn, day
        self.office = queries.timeline.office_email
        self._contacts = dict(conn.execute(
            select(t.subjects.c.subject, t.subjects.c.contact)
            .where(t.subjects.c.kind == "la")).all())
        self._names = dict(conn.execute(select(t.subjects.c.subject, t.subjects.c.name)).all())

    @cached_property
    def _in_post(self) -> dict[tuple[str, str], tuple[str, str]]:
        return self.queries.people_in_post(self.day, self.conn)

    @cached_property
    def _waivers(self) -> dict[str, list[dict[str, Any]]]:
        """Each subject's waivers granted by the day, in date order."""
        i = t.instances.c
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self.conn.execute(select(i.subject, i.obligation, i.waived_on)
                                   .where(i.waived_on <= self.day)
                                   .order_by(i.waived_on, i.ordinal)):
            found[r.subject].append({"obligation": r.obligation, "on": r.waived_on})
        return found

    def context(self, row: Any) -> dict[str, Any]:
        """What the email tells besides the reminder itself, as known on the run's day."""
        inst = row.instance
        coordinator = self._person(row.la, "coordinator") if row.la else None
        return {
            "subject_name": self._names.get(inst.subject, inst.subject),
            "la_name": self._names.get(row.la) if row.la and row.la != inst.subject else None,
            "coordinator": coordinator is not None,  # named by role: no address in the body
            "original_due": inst.due,
            "extensions": [{"granted_on": e.granted_on, "due": e.due}
                           for e in inst.extensions if e.granted_on <= self.day],
            "waivers": self._waivers.get(inst.subject, []),
        }

    def _person(self, subject: str, post: str) -> str | None:
        found = self._in_post.get((subject, post))
        return found[1] if found and found[1] != ERASED else None

    def _la_lead(self, la: str | None) -> str | None:
        if la is None:
            return None
        contact = self._contacts.get(la)
        return self._person(la, "coordinator") or (contact if contact != ERASED else None)

    def of(self, responsible: str, subject: str, la: str | None) -> tuple[list[str], list[str]]:
        """(to, cc) per PROGRAMME.md's recipient rules."""
        if responsible == "dcsf":
            return [self.office], []
        coordinator = self._person(la, "coordinator") if la else None
        if responsible == "la":
            return [self._la_lead(la) or self.office], []
        to = self._person(subject, "lead") or self._la_lead(la) or self.office
        cc = [coordinator] if coordinator and coordinator != to else []
        return [to], cc
