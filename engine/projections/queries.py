"""Read-side queries: overdue, status, board, stages. They read only the read-model tables.

Status as of a day is computed by `engine.obligations.Instance.status` from the stored dated
facts, so any `as_of` is answered from the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, or_, select
from sqlalchemy.engine import Engine

from engine.errors import UnknownSubject
from engine.obligations import Extension, Instance, Retraction, Status
from engine.projections import tables as t
from engine.timeline import Kind, Timeline


@dataclass(frozen=True, slots=True)
class Row:
    """An obligation instance with what queries show besides its status."""

    instance: Instance
    responsible: str
    la: str | None
    discharged_by: str | None
    ordinal: int
    seq: int


class Queries:
    """Answers the query contract from the read model."""

    def __init__(self, engine: Engine, timeline: Timeline) -> None:
        self.engine = engine
        self.timeline = timeline

    # --- instances ----------------------------------------------------------------------------

    def rows(self, as_of: dt.date, *where: Any, conn: Connection | None = None) -> list[Row]:
        """Instances existing on `as_of` (filtered by `where`), with their extensions."""
        i = t.instances.c
        query = select(t.instances).where(
            or_(i.exists_from.is_(None), i.exists_from <= as_of), *where
        ).order_by(i.seq, i.ordinal)  # a stable order, the same on every store
        if conn is None:
            with self.engine.connect() as own:
                return self._rows(own, query)
        return self._rows(conn, query)

    def _rows(self, conn: Connection, query: Any) -> list[Row]:
        records = conn.execute(query).all()
        extended = {(r.obligation, r.subject) for r in records if r.extended}
        retracted = self._retractions(conn, {(r.obligation, r.subject)
                                             for r in records if r.amended})
        extensions: dict[tuple[str, str], list[Extension]] = defaultdict(list)
        if extended:
            e = t.extensions.c
            subjects = {s for _, s in extended}
            for x in conn.execute(select(t.extensions).where(e.subject.in_(subjects))
                                  .order_by(e.position)):
                if (x.obligation, x.subject) in extended:
                    extensions[(x.obligation, x.subject)].append(Extension(x.granted_on, x.due))
        return [
            Row(
                Instance(
                    obligation=r.obligation, subject=r.subject, kind=Kind(r.kind), opens=r.opens,
                    due=r.due, exists_from=r.exists_from, discharged_on=r.discharged_on,
                    waived_on=r.waived_on, withdrawn_on=r.withdrawn_on,
                    extensions=tuple(extensions.get((r.obligation, r.subject), ())),
                    retracted=tuple(retracted.get((r.obligation, r.subject), ())),
                ),
                r.responsible, r.la, r.discharged_by, r.ordinal, r.seq,
            )
            for r in records
        ]

    def _retractions(self, conn: Connection, amended: set[tuple[str, str]]
                     ) -> dict[tuple[str, str], list[Retraction]]:
        found: dict[tuple[str, str], list[Retraction]] = defaultdict(list)
        if amended:
            r = t.retractions.c
            for x in conn.execute(select(t.retractions).where(
                    r.subject.in_({s for _, s in amended})).order_by(r.position)):
                if (x.obligation, x.subject) in amended:
                    found[(x.obligation, x.subject)].append(
                        Retraction(x.discharged_on, x.retracted_on))
        return found

    # --- overdue ------------------------------------------------------------------------------

    def overdue(self, as_of: dt.date, responsible: str | None = None,
                la: str | None = None) -> list[dict[str, Any]]:
        """Every overdue instance on `as_of`, sorted by due, obligation, subject."""
        i = t.instances.c
        where = [
            i.kind == Kind.DELIVERABLE.value,
            # An extension is always later than the due date in force, so an instance can be
            # overdue only once its timeline due date has passed.
            i.due < as_of,
            or_(i.discharged_on.is_(None), i.discharged_on > as_of),
            or_(i.waived_on.is_(None), i.waived_on > as_of),
            or_(i.withdrawn_on.is_(None), i.withdrawn_on > as_of),
        ]
        if responsible:
            where.append(i.responsible == responsible)
        if la:
            where.append(i.la == la)
        items = []
        for row in self.rows(as_of, *where):
            inst = row.instance
            if inst.status(as_of) is not Status.OVERDUE:
                continue
            items.append({
                "obligation": inst.obligation,
                "subject": inst.subject,
                "responsible": row.responsible,
                "la": row.la,
                "due": inst.due_in_force(as_of),
                "days_overdue": inst.days_overdue(as_of),
                "title": self.timeline.by_id[inst.obligation].title,
            })
        items.sort(key=lambda x: (x["due"], x["obligation"], x["subject"]))
        return items

    # --- subjects and stages ------------------------------------------------------------------

    def subject(self, subject: str, conn: Connection | None = None) -> dict[str, Any]:
        """A subject's row (UnknownSubject if there is none)."""
        query = select(t.subjects).where(t.subjects.c.subject == subject)
        if conn is None:
            with self.engine.connect() as own:
                row = own.execute(query).mappings().first()
        else:
            row = conn.execute(query).mappings().first()
        if row is None:
            raise UnknownSubject("subject", subject)
        return dict(row)

    def stages(self, as_of: dt.date) -> dict[str, str | None]:
        """The lifecycle stage of every school on `as_of` (None before its nomination)."""
        with self.engine.connect() as conn:
            schools = conn.execute(select(t.subjects.c.subject)
                                   .where(t.subjects.c.kind == "school")).scalars().all()
            stages = self._stages_as_of(conn, as_of)
        return {school: stages.get(school) for school in schools}

    def stage(self, subject: str, as_of: dt.date, conn: Connection) -> str | None:
        s = t.stages.c
        return conn.execute(
            select(s.stage).where(s.subject == subject, s.on <= as_of)
            .order_by(s.position.desc()).limit(1)).scalar()

    def status(self, subject: str, as_of: dt.date) -> dict[str, Any]:
        """A subject's stage and every obligation instance it has on `as_of`."""
        with self.engine.connect() as conn:
            info = self.subject(subject, conn)
            rows = self.rows(as_of, t.instances.c.subject == subject, conn=conn)
            stage = self.stage(subject, as_of, conn) if info["kind"] == "school" else None
            closed = self._la_closed(conn, subject, as_of) if info["kind"] == "la" else None
        exists = info["registered_on"] is None or info["registered_on"] <= as_of
        rows.sort(key=lambda r: r.ordinal)
        result = {
            "subject": subject,
            "kind": info["kind"],
            "role": info["role"],
            "name": info["name"],
            "la": info["la"],
            "registered_on": info["registered_on"],
            "stage": stage,
            "obligations": [self._obligation(r, as_of) for r in rows] if exists else [],
        }
        if info["kind"] == "la":
            result["account_closed_on"] = closed
        return result

    def _la_closed(self, conn: Connection, la: str, as_of: dt.date) -> dt.date | None:
        i = t.instances.c
        on = conn.execute(select(i.discharged_on).where(
            i.subject == la, i.obligation.in_(
                [o.id for o in self.timeline.obligations
                 if o.discharged_by.command == "dcsf.account_closed"]))).scalar()
        return on if on is not None and on <= as_of else None

    def _obligation(self, row: Row, as_of: dt.date) -> dict[str, Any]:
        inst = row.instance
        status = inst.status(as_of)
        discharged = inst.discharge_as_of(as_of) if status in (Status.DONE, Status.LATE) else None
        return {
            "obligation": inst.obligation,
            "title": self.timeline.by_id[inst.obligation].title,
            "responsible": row.responsible,
            "status": status.value,
            "opens": inst.opens,
            "due": inst.due_in_force(as_of),
            "discharged_on": discharged,
            "discharged_by": row.discharged_by if discharged else None,
            "days_overdue": inst.days_overdue(as_of) if status is Status.OVERDUE else None,
            "extensions": [{"granted_on": e.granted_on, "due": e.due}
                           for e in inst.extensions if e.granted_on <= as_of],
        }

    # --- board --------------------------------------------------------------------------------

    def board(self, as_of: dt.date, la: str | None = None) -> dict[str, Any]:
        """Every subject's status per obligation on `as_of`, grouped by LA, with counts
        (only one LA's subjects, without the programme row, when `la` is given)."""
        s = t.subjects.c
        with self.engine.connect() as conn:
            query = select(t.subjects).order_by(s.seq)
            if la is not None:
                query = query.where(s.la == la)
            subjects = [dict(r) for r in conn.execute(query).mappings()]
            rows = self.rows(as_of, *([t.instances.c.la == la] if la else []), conn=conn)
            stages = self._stages_as_of(conn, as_of)
        cells: dict[str, dict[str, str]] = defaultdict(dict)
        counts: Counter[str] = Counter()
        for row in rows:
            status = row.instance.status(as_of).value
            cells[row.instance.subject][row.instance.obligation] = status
            counts[status] += 1

        def entry(s: dict[str, Any]) -> dict[str, Any]:
            return {"subject": s["subject"], "kind": s["kind"], "role": s["role"],
                    "name": s["name"], "stage": stages.get(s["subject"]),
                    "obligations": cells.get(s["subject"], {})}

        existing = [s for s in subjects
                    if s["registered_on"] is None or s["registered_on"] <= as_of]
        las = [
            {**entry(la), "schools": [entry(s) for s in existing
                                      if s["kind"] == "school" and s["la"] == la["subject"]]}
            for la in existing if la["kind"] == "la"
        ]
        programme = next((entry(s) for s in subjects if s["kind"] == "programme"), None)
        columns = [o.id for o in self.timeline.obligations]
        return {"as_of": as_of, "columns": columns, "programme": programme, "las": las,
                "counts": dict(sorted(counts.items()))}

    def _stages_as_of(self, conn: Connection, as_of: dt.date) -> dict[str, str]:
        s = t.stages.c
        result: dict[str, str] = {}
        for r in conn.execute(select(t.stages).where(s.on <= as_of).order_by(s.position)):
            result[r.subject] = r.stage
        return result

    # --- funding and surveys ------------------------------------------------------------------

    def funding(self, as_of: dt.date, la: str | None = None) -> list[dict[str, Any]]:
        """Per school and LA: allocation, planned (plan lines; an LA's funding statement),
        accounted (financial account) and the variance of the account against the allocation,
        as known on `as_of`. Exact pounds and pence."""
        f, s = t.funding.c, t.subjects.c
        with self.engine.connect() as conn:
            query = select(t.subjects).where(s.kind != "programme").order_by(s.seq)
            if la is not None:
                query = query.where(s.la == la)
            subjects = [dict(r) for r in conn.execute(query).mappings()
                        if r["registered_on"] is None or r["registered_on"] <= as_of]
            sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
            for r in conn.execute(select(f.subject, f.source, f.amount).where(f.on <= as_of)):
                sums[(r.subject, r.source)] += Decimal(r.amount)
        rows = []
        for sub in subjects:
            allocation = self.timeline.allocation(sub["kind"], sub["role"])
            planned_source = "statement" if sub["kind"] == "la" else "plan"
            planned = sums.get((sub["subject"], planned_source))
            accounted = sums.get((sub["subject"], "account"))
            rows.append({
                "subject": sub["subject"], "kind": sub["role"] or sub["kind"], "la": sub["la"],
                "name": sub["name"], "allocation": allocation, "planned": planned,
                "accounted": accounted,
                "variance": accounted - allocation if accounted is not None else None,
            })
        return rows

    def survey_means(self, as_of: dt.date, la: str | None = None) -> dict[str, Any]:
        """Mean score per question per round (baseline, autumn, spring), pupil (Annex 5) and
        staff (Annex 6), for each school and programme-wide."""
        v = t.surveys.c
        query = select(t.surveys).where(v.on <= as_of).order_by(v.position)
        if la is not None:
            query = query.join(t.subjects, t.subjects.c.subject == v.subject).where(
                t.subjects.c.la == la)
        totals: dict[tuple[str, str, str], list[list[int]]] = defaultdict(list)
        with self.engine.connect() as conn:
            for r in conn.execute(query):
                for kind, rows in (("pupil", r.pupil), ("staff", r.staff)):
                    totals[(r.subject, kind, r.round)].extend(rows)
                    totals[("programme", kind, r.round)].extend(rows)
        result: dict[str, Any] = {}
        for (subject, kind, round_), rows in totals.items():
            if rows:
                means = [round(sum(col) / len(col), 2) for col in zip(*rows, strict=False)]
                result.setdefault(subject, {}).setdefault(kind, {})[round_] = means
        return result

    # --- people -------------------------------------------------------------------------------

    def people_in_post(self, as_of: dt.date,
                       conn: Connection) -> dict[tuple[str, str], tuple[str, str]]:
        """(name, email) of the holder of each (subject, post) on `as_of`: the latest
        appointment dated by then (the later recorded of two on one day), in one read."""
        p = t.people.c
        return {(r.subject, r.post): (r.name, r.email) for r in conn.execute(
            select(p.subject, p.post, p.name, p.email).where(p.on <= as_of)
            .order_by(p.on, p.position))}

    def reminders(self, statuses: list[str] | None = None) -> list[dict[str, Any]]:
        """The reminder ledger: every issued reminder and its delivery state."""
        r = t.reminders.c
        query = select(r.run_on.label("date"), r.obligation, r.subject, r.kind, r.scheduled_for,
                       r.due, r.to, r.cc, r.status, r.attempts, r.last_error,
                       r.next_attempt_at, r.delivered_at, r.message_id, r.mail_subject)
        if statuses:
            query = query.where(r.status.in_(statuses))
        with self.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query.order_by(r.position)).mappings()]

    def users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(
                select(t.users.c.email, t.users.c.role, t.users.c.la, t.users.c.revoked)
                .order_by(t.users.c.email)).mappings()]
