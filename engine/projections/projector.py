"""Keeps the read model in step with the event log, exactly once.

A pull loop (works on SQLite and PostgreSQL alike): read the notifications after the tracked
position, apply them, and move the tracking position in the same transaction. The position moves
only from the value read, so two processes catching up at once cannot both apply an event: the
loser's transaction is rolled back and it starts again from the new position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import Connection, insert, or_, select, update
from sqlalchemy.engine import Engine

from engine.aggregates.base import Subject, content, subject_id
from engine.aggregates.local_authority import LocalAuthority
from engine.aggregates.programme import PROGRAMME, Programme
from engine.aggregates.reminder import DELIVERED, FAILED, HELD, PENDING, Reminder, reminder_key
from engine.aggregates.school import School
from engine.aggregates.user import User
from engine.projections import tables as t
from engine.timeline import Obligation, Timeline

log = structlog.get_logger(__name__)

NAME = "read_model"
CHUNK = 5000


class Conflict(Exception):
    """Another process moved the tracking position first."""


class Projector:
    """Applies stored events to the read-model tables."""

    def __init__(self, app: Any, engine: Engine, timeline: Timeline,
                 known_at: dt.datetime | None = None) -> None:
        self.app = app
        self.engine = engine
        self.timeline = timeline
        # Only events recorded at or before this moment (what the office knew then).
        self.known_at = known_at
        self._subjects: dict[str, dict[str, Any]] = {}
        self._handlers: list[tuple[type, Callable[[Connection, Any, int], None]]] = [
            (School.Nominated, self._school_nominated),
            (LocalAuthority.Registered, self._la_registered),
            (Programme.Opened, lambda conn, e, p: None),
            (School.Lifecycle, self._lifecycle),
            (Subject.ExtensionGranted, self._extension),
            (Subject.ObligationWaived, self._waived),
            (Subject.SubmissionRetracted, self._retracted),
            (User.Added, self._user_added),
            (User.Revoked, self._user_revoked),
            (Reminder.Issued, self._reminder_issued),
            (Reminder.Claimed, self._reminder_claimed),
            (Reminder.Delivered, self._reminder_delivered),
            (Reminder.DeliveryFailed, self._reminder_failed),
            (Reminder.Released, self._reminder_released),
        ]

    # --- schema -------------------------------------------------------------------------------

    def create(self) -> bool:
        """Create the read-model tables (if missing) and seed them when new; True if new."""
        t.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(select(t.tracking.c.position).where(t.tracking.c.name == NAME)).first():
                return False
            self._seed(conn)
        return True

    def reset(self) -> None:
        """Empty the read model, ready to be rebuilt from the start of the log."""
        # Dropped and created afresh, so a rebuild also brings the tables' shape up to date.
        t.metadata.drop_all(self.engine)
        t.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            self._seed(conn)
        self._subjects.clear()

    def _seed(self, conn: Connection) -> None:
        conn.execute(insert(t.tracking).values(name=NAME, position=0))
        conn.execute(insert(t.subjects).values(
            subject=PROGRAMME, aggregate_id=str(subject_id("programme", PROGRAMME)),
            kind="programme", role=None, la=None, name=self.timeline.programme, contact=None,
            registered_on=None, withdrawn_on=None, seq=0))
        self._add_instances(conn, PROGRAMME, "programme", None, None, None, 0)

    def position(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                select(t.tracking.c.position).where(t.tracking.c.name == NAME)).scalar_one()

    # --- catching up --------------------------------------------------------------------------

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Apply every event not yet applied; return how many were applied."""
        applied = 0
        while True:
            start = self.position()
            notifications = self.app.recorder.select_notifications(
                start=start, limit=CHUNK, inclusive_of_start=False)
            if not notifications:
                return applied
            try:
                with self.engine.begin() as conn:
                    # Claim the range first: the tracking row is locked (PostgreSQL) or the
                    # database is (SQLite) until commit, and a concurrent catch-up that read
                    # the same position finds it moved and starts again.
                    moved = conn.execute(
                        update(t.tracking)
                        .where(t.tracking.c.name == NAME, t.tracking.c.position == start)
                        .values(position=notifications[-1].id))
                    if moved.rowcount != 1:
                        raise Conflict
                    self._load_subjects(conn)
                    for n in notifications:
                        self._apply(conn, self.app.mapper.to_domain_event(n), n.id)
            except Conflict:
                log.info("projection.conflict", position=start)
                continue
            except BaseException:
                self._subjects.clear()
                raise
            applied += len(notifications)
            if progress is not None:
                progress(len(notifications))

    def _load_subjects(self, conn: Connection) -> None:
        """Bring the subject cache up to date (other processes may have added subjects)."""
        known = max((s["seq"] for s in self._subjects.values()), default=-1)
        for row in conn.execute(select(t.subjects).where(t.subjects.c.seq > known)).mappings():
            self._subjects[row["aggregate_id"]] = dict(row)

    def _apply(self, conn: Connection, event: Any, position: int) -> None:
        if self.known_at is not None and event.timestamp > self.known_at:
            return
        for cls, handler in self._handlers:
            if isinstance(event, cls):
                handler(conn, event, position)
                break
        if isinstance(event, Subject.Recorded):
            self._recorded(conn, event, position)

    # --- subjects -----------------------------------------------------------------------------

    def _school_nominated(self, conn: Connection, e: School.Nominated, position: int) -> None:
        self._add_subject(conn, e, e.school, "school", e.role, e.la, e.name, None, position)
        conn.execute(insert(t.stages).values(subject=e.school, on=e.on, stage="nominated",
                                             position=position))

    def _la_registered(self, conn: Connection, e: LocalAuthority.Registered, position: int) -> None:
        self._add_subject(conn, e, e.la, "la", None, e.la, e.name, e.contact, position)

    def _add_subject(self, conn: Connection, e: Any, subject: str, kind: str, role: str | None,
                     la: str | None, name: str, contact: str | None, position: int) -> None:
        row = dict(subject=subject, aggregate_id=str(e.originator_id), kind=kind, role=role,
                   la=la, name=name, contact=contact, registered_on=e.on, withdrawn_on=None,
                   seq=position)
        conn.execute(insert(t.subjects).values(**row))
        self._subjects[row["aggregate_id"]] = row
        self._add_instances(conn, subject, kind, role, la, e.on, position)

    def _add_instances(self, conn: Connection, subject: str, kind: str, role: str | None,
                       la: str | None, on: dt.date | None, seq: int) -> None:
        rows = [
            self._instance_row(o, subject, la, o.opens, o.due, on, seq)
            for o in self.timeline.obligations
            if not o.relative and o.applies_to(kind, role)
        ]
        if rows:
            conn.execute(insert(t.instances), rows)

    def _instance_row(self, o: Obligation, subject: str, la: str | None, opens: Any, due: Any,
                      exists_from: dt.date | None, seq: int) -> dict[str, Any]:
        return dict(obligation=o.id, subject=subject, responsible=o.responsible.value, la=la,
                    kind=o.kind.value, opens=opens, due=due, exists_from=exists_from,
                    discharged_on=None, discharged_by=None, waived_on=None, withdrawn_on=None,
                    extended=0, amended=0, ordinal=self.timeline.order[o.id], seq=seq)

    def _subject_of(self, e: Any) -> dict[str, Any]:
        return self._subjects[str(e.originator_id)]

    # --- lifecycle and facts ------------------------------------------------------------------

    def _lifecycle(self, conn: Connection, e: School.Lifecycle, position: int) -> None:
        subject = self._subject_of(e)["subject"]
        conn.execute(insert(t.stages).values(subject=subject, on=e.on, stage=e.stage,
                                             position=position))
        if isinstance(e, School.Withdrawn):
            conn.execute(update(t.subjects).where(t.subjects.c.subject == subject)
                         .values(withdrawn_on=e.on))
            conn.execute(update(t.instances).where(t.instances.c.subject == subject)
                         .values(withdrawn_on=e.on))

    def _recorded(self, conn: Connection, e: Subject.Recorded, position: int) -> None:
        """Triggers, discharges and the side tables every recorded fact may feed."""
        subject = self._subject_of(e)
        name = subject["subject"]
        fields = content(e)
        for o in self.timeline.triggered_by(e.command):
            if o.applies_to(subject["kind"], subject["role"]):
                self._trigger(conn, o, subject, e.on)
        for o in self.timeline.discharged_by(e.command, fields):
            inst = t.instances.c
            conn.execute(
                update(t.instances)
                .where(inst.obligation == o.id, inst.subject == name,
                       or_(inst.discharged_on.is_(None), inst.discharged_on > e.on))
                .values(discharged_on=e.on, discharged_by=e.by))
        self._side_tables(conn, e, name, position)

    def _trigger(self, conn: Connection, o: Obligation, subject: dict[str, Any],
                 on: dt.date) -> None:
        inst = t.instances.c
        existing = conn.execute(select(inst.opens).where(
            inst.obligation == o.id, inst.subject == subject["subject"])).first()
        if existing is not None:
            return
        due = on + dt.timedelta(days=o.due_days or 0)
        # No trigger can be recorded for a withdrawn school, so none is withdrawn here.
        conn.execute(insert(t.instances).values(**self._instance_row(
            o, subject["subject"], subject["la"], on, due, on, subject["seq"])))

    def _extension(self, conn: Connection, e: Subject.ExtensionGranted, position: int) -> None:
        subject = self._subject_of(e)["subject"]
        conn.execute(insert(t.extensions).values(obligation=e.obligation, subject=subject,
                                                 granted_on=e.on, due=e.due, by=e.by,
                                                 position=position))
        conn.execute(update(t.instances)
                     .where(t.instances.c.obligation == e.obligation,
                            t.instances.c.subject == subject)
                     .values(extended=1))

    def _waived(self, conn: Connection, e: Subject.ObligationWaived, position: int) -> None:
        subject = self._subject_of(e)["subject"]
        inst = t.instances.c
        conn.execute(update(t.instances)
                     .where(inst.obligation == e.obligation, inst.subject == subject,
                            or_(inst.waived_on.is_(None), inst.waived_on > e.on))
                     .values(waived_on=e.on))

    def _retracted(self, conn: Connection, e: Subject.SubmissionRetracted,
                   position: int) -> None:
        """The retracted fact no longer discharges anything from `e.on`; a lifecycle step's
        stage goes back; what it triggered and fed (funding lines, surveys) is withdrawn."""
        subject = self._subject_of(e)["subject"]
        inst = t.instances.c
        for o in self.timeline.discharged_by(e.retracted_command, e.fields):
            where = (inst.obligation == o.id, inst.subject == subject)
            done = conn.execute(select(inst.discharged_on).where(*where)).scalar()
            if done is None:
                continue
            conn.execute(insert(t.retractions).values(
                obligation=o.id, subject=subject, discharged_on=done, retracted_on=e.on,
                position=position))
            conn.execute(update(t.instances).where(*where).values(
                discharged_on=None, discharged_by=None, amended=1))
        if e.stage is not None:
            conn.execute(insert(t.stages).values(subject=subject, on=e.on, stage=e.stage,
                                                 position=position))
        for o in self.timeline.triggered_by(e.retracted_command):
            conn.execute(t.instances.delete().where(inst.obligation == o.id,
                                                    inst.subject == subject))
        source = FED_BY.get(e.retracted_command)
        if source is not None:
            table, column, value = source
            conn.execute(table.delete().where(table.c.subject == subject,
                                              column(table) == (value or e.fields.get("round"))))

    def _side_tables(self, conn: Connection, e: Any, subject: str, position: int) -> None:
        if isinstance(e, School.LeadAppointed | LocalAuthority.CoordinatorAppointed):
            post = "lead" if isinstance(e, School.LeadAppointed) else "coordinator"
            conn.execute(insert(t.people).values(subject=subject, post=post, on=e.on,
                                                 name=e.name, email=e.email, position=position))
        lines, source = _funding_lines(e)
        if lines:
            conn.execute(insert(t.funding), [
                dict(subject=subject, source=source, on=e.on, item=line["item"],
                     amount=line["amount"], position=position) for line in lines])
        if isinstance(e, School.Baselined):
            conn.execute(insert(t.surveys).values(subject=subject, round="baseline", on=e.on,
                                                  pupil=e.pupil_survey, staff=[],
                                                  position=position))
        elif isinstance(e, School.SurveysCompleted):
            conn.execute(insert(t.surveys).values(subject=subject, round=e.round, on=e.on,
                                                  pupil=e.pupil, staff=e.staff,
                                                  position=position))

    # --- users --------------------------------------------------------------------------------

    def _user_added(self, conn: Connection, e: User.Added, position: int) -> None:
        conn.execute(insert(t.users).values(email=e.email, aggregate_id=str(e.originator_id),
                                            role=e.role, la=e.la, revoked=0))

    def _user_revoked(self, conn: Connection, e: User.Revoked, position: int) -> None:
        conn.execute(update(t.users).where(t.users.c.aggregate_id == str(e.originator_id))
                     .values(revoked=1))


    def _reminder_issued(self, conn: Connection, e: Reminder.Issued, position: int) -> None:
        conn.execute(insert(t.reminders).values(
            key=reminder_key(e.obligation, e.subject, e.kind, e.scheduled_for),
            aggregate_id=str(e.originator_id), obligation=e.obligation, subject=e.subject,
            kind=e.kind, scheduled_for=e.scheduled_for, due=e.due, run_on=e.run_on, to=e.to,
            cc=e.cc, message_id=e.message_id, mail_subject=e.mail_subject,
            status=PENDING if e.deliver else HELD, attempts=0, last_error=None,
            next_attempt_at=e.timestamp if e.deliver else None, claimed_until=None,
            delivered_at=None, position=position))

    def _update_reminder(self, conn: Connection, e: Any, **values: Any) -> None:
        conn.execute(update(t.reminders)
                     .where(t.reminders.c.aggregate_id == str(e.originator_id)).values(**values))

    def _reminder_claimed(self, conn: Connection, e: Reminder.Claimed, position: int) -> None:
        self._update_reminder(conn, e, claimed_until=e.until)

    def _reminder_delivered(self, conn: Connection, e: Reminder.Delivered,
                            position: int) -> None:
        self._update_reminder(conn, e, status=DELIVERED, attempts=t.reminders.c.attempts + 1,
                              delivered_at=e.timestamp, claimed_until=None,
                              next_attempt_at=None)

    def _reminder_failed(self, conn: Connection, e: Reminder.DeliveryFailed,
                         position: int) -> None:
        self._update_reminder(conn, e, status=FAILED, attempts=t.reminders.c.attempts + 1,
                              last_error=e.error, next_attempt_at=e.retry_at,
                              claimed_until=None)

    def _reminder_released(self, conn: Connection, e: Reminder.Released, position: int) -> None:
        self._update_reminder(conn, e, status=PENDING, next_attempt_at=e.timestamp)


# What a retracted command had fed into side tables: (table, column, value or None = its round).
FED_BY: dict[str, tuple[Any, Callable[[Any], Any], str | None]] = {
    "school.plan_submitted": (t.funding, lambda tb: tb.c.source, "plan"),
    "school.partner_plan_agreed": (t.funding, lambda tb: tb.c.source, "plan"),
    "school.financial_account_submitted": (t.funding, lambda tb: tb.c.source, "account"),
    "la.financial_account_submitted": (t.funding, lambda tb: tb.c.source, "account"),
    "la.funding_statement_submitted": (t.funding, lambda tb: tb.c.source, "statement"),
    "school.baselined": (t.surveys, lambda tb: tb.c.round, "baseline"),
    "school.surveys_completed": (t.surveys, lambda tb: tb.c.round, None),
}


def _funding_lines(e: Any) -> tuple[list[dict[str, str]], str]:
    if isinstance(e, School.DevelopmentPlanSubmitted | School.PartnerPlanAgreed):
        return e.plan["funding"], "plan"
    if isinstance(e, LocalAuthority.FundingStatementSubmitted):
        return e.lines, "statement"
    if isinstance(e, School.FinancialAccountSubmitted | LocalAuthority.FinancialAccountSubmitted):
        return e.lines, "account"
    return [], ""

