"""Keeps the read model in step with the event log, exactly once.

A pull loop (works on SQLite and PostgreSQL alike): read the notifications after the tracked
position, apply them, and move the tracking position in the same transaction. The position moves
only from the value read, so two processes catching up at once cannot both apply an event: the
loser's transaction is rolled back and it starts again from the new position.

Within a chunk, writes are buffered (`Writes`) and sent as one `executemany` per statement:
inserts first, then the updates that commute with each other, then those whose order matters,
each list in log order. An event whose effect depends on the rows as they stand (a retraction,
a withdrawal, a trigger's existence check) flushes the buffer first and then works directly on
the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import Connection, Table, and_, bindparam, insert, or_, select, update
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
        # The relative (triggered) instances that exist, as of tracking position
        # `_triggered_at` (None: to be read again from the database).
        self._triggered: set[tuple[str, str]] = set()
        self._triggered_at: int | None = None
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
        self._triggered_at = None

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
                    if self._triggered_at != start:
                        self._load_triggered(conn)
                    writes = Writes(conn)
                    to_domain_event = self.app.mapper.to_domain_event
                    for n in notifications:
                        self._apply(writes, to_domain_event(n), n.id)
                    writes.flush()
            except Conflict:
                self._triggered_at = None
                log.info("projection.conflict", position=start)
                continue
            except BaseException:
                self._subjects.clear()
                self._triggered_at = None
                raise
            self._triggered_at = notifications[-1].id
            applied += len(notifications)
            if progress is not None:
                progress(len(notifications))

    def _load_subjects(self, conn: Connection) -> None:
        """Bring the subject cache up to date (other processes may have added subjects)."""
        known = max((s["seq"] for s in self._subjects.values()), default=-1)
        for row in conn.execute(select(t.subjects).where(t.subjects.c.seq > known)).mappings():
            self._subjects[row["aggregate_id"]] = dict(row)

    def _load_triggered(self, conn: Connection) -> None:
        """Read which relative instances exist (another process may have added some)."""
        relative = [o.id for o in self.timeline.obligations if o.relative]
        inst = t.instances.c
        self._triggered = {(r.obligation, r.subject) for r in conn.execute(
            select(inst.obligation, inst.subject).where(inst.obligation.in_(relative)))}

    def _apply(self, w: Writes, event: Any, position: int) -> None:
        if self.known_at is not None and event.timestamp > self.known_at:
            return
        for cls, handler in self._handlers:
            if isinstance(event, cls):
                handler(w, event, position)
                break
        if isinstance(event, Subject.Recorded):
            self._recorded(w, event, position)

    # --- subjects -----------------------------------------------------------------------------

    def _school_nominated(self, w: Writes, e: School.Nominated, position: int) -> None:
        self._add_subject(w, e, e.school, "school", e.role, e.la, e.name, None, position)
        w.insert(t.stages, dict(subject=e.school, on=e.on, stage="nominated", position=position))

    def _la_registered(self, w: Writes, e: LocalAuthority.Registered, position: int) -> None:
        self._add_subject(w, e, e.la, "la", None, e.la, e.name, e.contact, position)

    def _add_subject(self, w: Writes, e: Any, subject: str, kind: str, role: str | None,
                     la: str | None, name: str, contact: str | None, position: int) -> None:
        row = dict(subject=subject, aggregate_id=str(e.originator_id), kind=kind, role=role,
                   la=la, name=name, contact=contact, registered_on=e.on, withdrawn_on=None,
                   seq=position)
        w.insert(t.subjects, row)
        self._subjects[row["aggregate_id"]] = row
        self._add_instances(w, subject, kind, role, la, e.on, position)

    def _add_instances(self, w: Writes | Connection, subject: str, kind: str,
                       role: str | None, la: str | None, on: dt.date | None, seq: int) -> None:
        rows = [
            self._instance_row(o, subject, la, o.opens, o.due, on, seq)
            for o in self.timeline.obligations
            if not o.relative and o.applies_to(kind, role)
        ]
        if not rows:
            return
        if isinstance(w, Writes):
            for row in rows:
                w.insert(t.instances, row)
        else:
            w.execute(insert(t.instances), rows)

    def _instance_row(self, o: Obligation, subject: str, la: str | None, opens: Any, due: Any,
                      exists_from: dt.date | None, seq: int) -> dict[str, Any]:
        return dict(obligation=o.id, subject=subject, responsible=o.responsible.value, la=la,
                    kind=o.kind.value, opens=opens, due=due, exists_from=exists_from,
                    discharged_on=None, discharged_by=None, waived_on=None, withdrawn_on=None,
                    extended=0, amended=0, ordinal=self.timeline.order[o.id], seq=seq)

    def _subject_of(self, e: Any) -> dict[str, Any]:
        return self._subjects[str(e.originator_id)]

    # --- lifecycle and facts ------------------------------------------------------------------

    def _lifecycle(self, w: Writes, e: School.Lifecycle, position: int) -> None:
        subject = self._subject_of(e)["subject"]
        w.insert(t.stages, dict(subject=subject, on=e.on, stage=e.stage, position=position))
        if isinstance(e, School.Withdrawn):
            # After every buffered insert (its instances included); nothing can be recorded
            # for the school after this, so nothing later in the chunk depends on the order.
            w.ordered(WITHDRAW_SUBJECT, dict(b_subject=subject, b_on=e.on))
            w.ordered(WITHDRAW_INSTANCES, dict(b_subject=subject, b_on=e.on))

    def _recorded(self, w: Writes, e: Subject.Recorded, position: int) -> None:
        """Triggers, discharges and the side tables every recorded fact may feed."""
        subject = self._subject_of(e)
        name = subject["subject"]
        fields = content(e)
        for o in self.timeline.triggered_by(e.command):
            if o.applies_to(subject["kind"], subject["role"]):
                self._trigger(w, o, subject, e.on)
        for o in self.timeline.discharged_by(e.command, fields):
            w.update(DISCHARGE, dict(b_obligation=o.id, b_subject=name, b_on=e.on, b_by=e.by))
        self._side_tables(w, e, name, position)

    def _trigger(self, w: Writes, o: Obligation, subject: dict[str, Any],
                 on: dt.date) -> None:
        key = (o.id, subject["subject"])
        if key in self._triggered:
            return
        self._triggered.add(key)
        due = on + dt.timedelta(days=o.due_days or 0)
        # No trigger can be recorded for a withdrawn school, so none is withdrawn here.
        w.insert(t.instances, self._instance_row(
            o, subject["subject"], subject["la"], on, due, on, subject["seq"]))

    def _extension(self, w: Writes, e: Subject.ExtensionGranted, position: int) -> None:
        subject = self._subject_of(e)["subject"]
        w.insert(t.extensions, dict(obligation=e.obligation, subject=subject, granted_on=e.on,
                                    due=e.new_due, by=e.by, position=position))
        w.update(EXTEND, dict(b_obligation=e.obligation, b_subject=subject))

    def _waived(self, w: Writes, e: Subject.ObligationWaived, position: int) -> None:
        subject = self._subject_of(e)["subject"]
        w.update(WAIVE, dict(b_obligation=e.obligation, b_subject=subject, b_on=e.on))

    def _retracted(self, w: Writes, e: Subject.SubmissionRetracted, position: int) -> None:
        """The retracted fact no longer discharges anything from `e.on`; a lifecycle step's
        stage goes back; what it triggered and fed (funding lines, surveys) is withdrawn."""
        conn = w.flush()
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
            self._triggered.discard((o.id, subject))
        source = FED_BY.get(e.retracted_command)
        if source is not None:
            table, column, value = source
            conn.execute(table.delete().where(table.c.subject == subject,
                                              column(table) == (value or e.fields.get("round"))))

    def _side_tables(self, w: Writes, e: Any, subject: str, position: int) -> None:
        if isinstance(e, School.LeadAppointed | LocalAuthority.CoordinatorAppointed):
            post = "lead" if isinstance(e, School.LeadAppointed) else "coordinator"
            w.insert(t.people, dict(subject=subject, post=post, on=e.on, name=e.name,
                                    email=e.email, position=position))
        lines, source = _funding_lines(e)
        for line in lines:
            w.insert(t.funding, dict(subject=subject, source=source, on=e.on, item=line["item"],
                                     amount=line["amount"], position=position))
        if isinstance(e, School.Baselined):
            w.insert(t.surveys, dict(subject=subject, round="baseline", on=e.on,
                                     pupil=e.pupil_survey, staff=[], position=position))
        elif isinstance(e, School.SurveysCompleted):
            w.insert(t.surveys, dict(subject=subject, round=e.round, on=e.on, pupil=e.pupil,
                                     staff=e.staff, position=position))

    # --- users --------------------------------------------------------------------------------

    def _user_added(self, w: Writes, e: User.Added, position: int) -> None:
        w.insert(t.users, dict(email=e.email, aggregate_id=str(e.originator_id), role=e.role,
                               la=e.la, revoked=0))

    def _user_revoked(self, w: Writes, e: User.Revoked, position: int) -> None:
        w.flush().execute(update(t.users).where(t.users.c.aggregate_id == str(e.originator_id))
                          .values(revoked=1))

    # --- reminders ----------------------------------------------------------------------------

    def _reminder_issued(self, w: Writes, e: Reminder.Issued, position: int) -> None:
        w.insert(t.reminders, dict(
            key=reminder_key(e.obligation, e.subject, e.kind, e.scheduled_for),
            aggregate_id=str(e.originator_id), obligation=e.obligation, subject=e.subject,
            kind=e.kind, scheduled_for=e.scheduled_for, due=e.due, run_on=e.run_on, to=e.to,
            cc=e.cc, message_id=e.message_id, mail_subject=e.mail_subject,
            status=PENDING if e.deliver else HELD, attempts=0, last_error=None,
            next_attempt_at=e.timestamp if e.deliver else None, claimed_until=None,
            delivered_at=None, position=position))

    def _update_reminder(self, w: Writes, e: Any, statement: Any, **values: Any) -> None:
        w.ordered(statement, dict(b_aggregate_id=str(e.originator_id), **values))

    def _reminder_claimed(self, w: Writes, e: Reminder.Claimed, position: int) -> None:
        self._update_reminder(w, e, CLAIMED, claimed_until=e.until)

    def _reminder_delivered(self, w: Writes, e: Reminder.Delivered, position: int) -> None:
        self._update_reminder(w, e, DELIVERED_STMT, delivered_at=e.timestamp)

    def _reminder_failed(self, w: Writes, e: Reminder.DeliveryFailed, position: int) -> None:
        self._update_reminder(w, e, FAILED_STMT, last_error=e.error, next_attempt_at=e.retry_at)

    def _reminder_released(self, w: Writes, e: Reminder.Released, position: int) -> None:
        self._update_reminder(w, e, RELEASED, next_attempt_at=e.timestamp)


class Writes:
    """One chunk's writes, buffered and sent as one `executemany` per statement.

    `flush` sends, in this order: the inserts (each table's rows in log order), the updates of
    instances (each statement's rows in log order; they commute with one another: each sets
    its own columns, conditionally on the earliest date), then the updates whose order matters
    (runs of the same statement merged), and returns the connection for direct work.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.inserts: dict[Table, list[dict[str, Any]]] = {}
        self.updates: dict[Any, list[dict[str, Any]]] = {}
        self.sequence: list[tuple[Any, list[dict[str, Any]]]] = []

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        self.inserts.setdefault(table, []).append(row)

    def update(self, statement: Any, params: dict[str, Any]) -> None:
        self.updates.setdefault(statement, []).append(params)

    def ordered(self, statement: Any, params: dict[str, Any]) -> None:
        if self.sequence and self.sequence[-1][0] is statement:
            self.sequence[-1][1].append(params)
        else:
            self.sequence.append((statement, [params]))

    def flush(self) -> Connection:
        conn = self.conn
        for table in INSERT_ORDER:
            rows = self.inserts.pop(table, None)
            if rows:
                conn.execute(insert(table), rows)
        for statement, params in self.updates.items():
            conn.execute(statement, params)
        for statement, params in self.sequence:
            conn.execute(statement, params)
        self.inserts.clear()
        self.updates.clear()
        self.sequence.clear()
        return conn


INSERT_ORDER = (t.subjects, t.instances, t.stages, t.extensions, t.retractions, t.people,
                t.funding, t.surveys, t.users, t.reminders)

_i = t.instances.c
_instance = and_(_i.obligation == bindparam("b_obligation"),
                 _i.subject == bindparam("b_subject"))
DISCHARGE = (update(t.instances)
             .where(_instance, or_(_i.discharged_on.is_(None),
                                   _i.discharged_on > bindparam("b_on")))
             .values(discharged_on=bindparam("b_on"), discharged_by=bindparam("b_by")))
WAIVE = (update(t.instances)
         .where(_instance, or_(_i.waived_on.is_(None), _i.waived_on > bindparam("b_on")))
         .values(waived_on=bindparam("b_on")))
EXTEND = update(t.instances).where(_instance).values(extended=1)
WITHDRAW_SUBJECT = (update(t.subjects).where(t.subjects.c.subject == bindparam("b_subject"))
                    .values(withdrawn_on=bindparam("b_on")))
WITHDRAW_INSTANCES = (update(t.instances).where(_i.subject == bindparam("b_subject"))
                      .values(withdrawn_on=bindparam("b_on")))

_r = t.reminders.c
_reminder = update(t.reminders).where(_r.aggregate_id == bindparam("b_aggregate_id"))
CLAIMED = _reminder.values(claimed_until=bindparam("claimed_until"))
DELIVERED_STMT = _reminder.values(status=DELIVERED, attempts=_r.attempts + 1,
                                  delivered_at=bindparam("delivered_at"), claimed_until=None,
                                  next_attempt_at=None)
FAILED_STMT = _reminder.values(status=FAILED, attempts=_r.attempts + 1,
                               last_error=bindparam("last_error"),
                               next_attempt_at=bindparam("next_attempt_at"), claimed_until=None)
RELEASED = _reminder.values(status=PENDING, next_attempt_at=bindparam("next_attempt_at"))


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

