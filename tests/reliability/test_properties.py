"""Stateful property tests: random command sequences against a small reference model.

A hypothesis state machine drives one LA and a handful of schools through the lifecycle
(nominate, baseline, plans, reports, account, closure, withdrawal) with extensions, waivers and
retractions, valid and invalid, dated at random. A reference model of PROGRAMME.md's rules
(small, written here independently of the engine) predicts for every command whether it is
accepted and how many events it stores. After every step:

- an accepted command (or batch) stored exactly the predicted number of events, a refused one
  stored nothing, and the engine accepted/refused exactly as the model predicted;
- the stages the read model shows are the model's stages;
- the incrementally maintained read model answers overdue, status, board, stages, funding and
  survey means exactly like a full replay of every event into a fresh read model
  (`Store.known_at` far in the future);
- status and overdue from the read model equal those computed by replaying the aggregates
  themselves (`engine.handlers.instance_of` over each subject's aggregate);
- the read-model tables are row for row what `projector.reset()` + `catch_up()` rebuilds.

Each example works on its own LA and schools (ids prefixed per example) in one store per test,
so the store is created once (SQLite file and PostgreSQL in turn).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, text

from engine.aggregates.base import subject_id
from engine.application import BatchRejected
from engine.bootstrap import Store, init_store
from engine.commands import parse_command
from engine.handlers import instance_of
from engine.obligations import Status
from engine.projections import tables
from tests.builders import baseline, cmd, partner_plan, plan, report
from tests.conftest import ADMIN, FixedClock
from tests.reliability.conftest import scale

D = dt.date
DAY = dt.timedelta(days=1)
FAR = D(2011, 12, 31)  # after every business date the machine uses
FOREVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)  # known_at: every recorded event
LA_REGISTERED = D(2009, 5, 10)

# Absolute dates the machine picks from (one before the LA exists, the rest across the year).
DATES = [D(2009, 5, 1), D(2009, 5, 21), D(2009, 7, 1), D(2009, 9, 15), D(2009, 9, 30),
         D(2009, 10, 20), D(2010, 1, 20), D(2010, 2, 15), D(2010, 6, 20), D(2010, 7, 10),
         D(2010, 7, 31), D(2010, 8, 20), D(2010, 9, 30)]
AS_OF = [D(2009, 9, 1), D(2009, 10, 1), D(2010, 2, 1), D(2010, 8, 1), FAR]
STATUS_AS_OF = [D(2010, 2, 1), FAR]
# The read-model tables are compared with a reset + catch-up every this many steps (and at the
# end of every example); the full replay into a fresh read model is compared after every step.
REBUILD_EVERY = scale(4, 2)

SCHOOLS = ["T1", "T2", "T3", "T4", "T5", "P1", "P2"]  # five trial places asked for four
CAP = {"trial": 4, "partner": 1}

NOMINATED, BASELINED, PLANNED = "nominated", "baselined", "planned"
INTERIM, FINAL, CLOSED, WITHDRAWN = ("interim_submitted", "final_submitted", "account_closed",
                                     "withdrawn")
TRIAL_ORDER = [NOMINATED, BASELINED, PLANNED, INTERIM, FINAL, CLOSED]

# Commands of the lifecycle (and the account, which moves no stage).
BASELINE, PLAN, PARTNER_PLAN = ("school.baselined", "school.plan_submitted",
                                "school.partner_plan_agreed")
INTERIM_REPORT, FINAL_REPORT = "school.interim_report_submitted", "school.final_report_submitted"
ACCOUNT, CLOSE, WITHDRAW = ("school.financial_account_submitted", "dcsf.account_closed",
                            "school.withdrawn")
STEP_STAGE = {BASELINE: BASELINED, PLAN: PLANNED, PARTNER_PLAN: PLANNED, INTERIM_REPORT: INTERIM,
              FINAL_REPORT: FINAL, CLOSE: CLOSED, WITHDRAW: WITHDRAWN}
STEPS = [BASELINE, PLAN, "plan-over-allocation", PARTNER_PLAN, INTERIM_REPORT, FINAL_REPORT,
         ACCOUNT, CLOSE, WITHDRAW]


@dataclass(frozen=True)
class Ob:
    """What the model knows of an obligation: who owes it, its due date, what discharges it."""

    roles: tuple[str, ...]  # 'trial', 'partner', 'la'
    due: D | None  # None: relative to the account (due 28 days after it)
    discharged_by: str | None


OBLIGATIONS = {
    "school.baseline": Ob(("trial",), D(2009, 9, 30), BASELINE),
    "school.development_plan": Ob(("trial",), D(2009, 9, 30), PLAN),
    "school.partner_plan": Ob(("partner",), D(2009, 10, 31), PARTNER_PLAN),
    "school.interim_report": Ob(("trial",), D(2010, 1, 31), INTERIM_REPORT),
    "school.final_report": Ob(("trial",), D(2010, 6, 30), FINAL_REPORT),
    "school.financial_account": Ob(("trial", "partner"), D(2010, 7, 31), ACCOUNT),
    "school.lead": Ob(("trial", "partner"), D(2009, 9, 30), None),
    "dcsf.account_closure": Ob(("trial", "partner", "la"), None, CLOSE),
    "la.coordinator": Ob(("la",), D(2009, 9, 30), None),
}
OBLIGATION_CHOICES = [*OBLIGATIONS, "no.such.obligation"]


# --- the reference model ----------------------------------------------------------------------


@dataclass
class SchoolModel:
    role: str
    nominated_on: D
    stage: str = NOMINATED
    stage_on: D = LA_REGISTERED
    history: list[str] = field(default_factory=lambda: [NOMINATED])
    withdrawn_on: D | None = None
    seen: dict[str, D] = field(default_factory=dict)  # command -> date of the fact in force
    retracted: dict[str, D] = field(default_factory=dict)  # command -> retraction date
    extensions: dict[str, list[tuple[D, D]]] = field(default_factory=dict)
    waivers: dict[str, D] = field(default_factory=dict)
    ever_retracted: set[str] = field(default_factory=set)  # obligations


@dataclass
class Model:
    """PROGRAMME.md's rules for one LA and its schools, just enough to predict accept/refuse."""

    schools: dict[str, SchoolModel] = field(default_factory=dict)
    la_extensions: dict[str, list[tuple[D, D]]] = field(default_factory=dict)
    la_waivers: dict[str, D] = field(default_factory=dict)

    # Each method returns the number of events stored if accepted (state updated), else None.

    def nominate(self, school: str, on: D) -> int | None:
        role = "trial" if school.startswith("T") else "partner"
        if school in self.schools or on < LA_REGISTERED:
            return None
        active = [s for s in self.schools.values()
                  if s.role == role and (s.withdrawn_on is None or s.withdrawn_on > on)]
        if len(active) >= CAP[role]:
            return None
        self.schools[school] = SchoolModel(role, on, stage_on=on)
        return 2  # the LA's roster entry and the school's creation

    def _dated(self, s: SchoolModel, on: D) -> bool:
        return on >= s.nominated_on and (s.withdrawn_on is None or on <= s.withdrawn_on)

    def _lifecycle(self, s: SchoolModel, command: str, on: D, allowed: tuple[str, ...]) -> bool:
        if not self._dated(s, on):
            return False
        if command in s.retracted and on < s.retracted[command]:
            return False
        if command in s.seen or s.stage not in allowed or on < s.stage_on:
            return False
        s.seen[command] = on
        s.stage, s.stage_on = STEP_STAGE[command], on
        s.history.append(s.stage)
        if command == WITHDRAW:
            s.withdrawn_on = on
        return True

    def step(self, command: str, school: str, on: D) -> int | None:
        s = self.schools.get(school)
        if s is None:
            return None
        trial = s.role == "trial"
        match command:
            case "plan-over-allocation":
                return None  # funding over the allocation: refused whatever the stage
            case "school.baselined":
                ok = trial and self._lifecycle(s, command, on, (NOMINATED,))
            case "school.plan_submitted":
                ok = trial and self._lifecycle(s, command, on, (BASELINED,))
            case "school.partner_plan_agreed":
                ok = not trial and self._lifecycle(s, command, on, (NOMINATED,))
            case "school.interim_report_submitted":
                ok = trial and self._lifecycle(s, command, on, (PLANNED,))
            case "school.final_report_submitted":
                ok = trial and self._lifecycle(s, command, on, (INTERIM,))
            case "dcsf.account_closed":
                account = s.seen.get(ACCOUNT)
                ok = (account is not None and account <= on
                      and self._lifecycle(s, command, on, (FINAL,) if trial else (PLANNED,)))
            case "school.withdrawn":
                ok = s.stage != WITHDRAWN and self._lifecycle(
                    s, command, on, tuple(x for x in TRIAL_ORDER if x != CLOSED))
            case "school.financial_account_submitted":
                ok = (s.stage in (PLANNED, INTERIM, FINAL) and self._dated(s, on)
                      and on >= s.seen[PLAN if trial else PARTNER_PLAN]
                      and not (ACCOUNT in s.retracted and on < s.retracted[ACCOUNT])
                      and ACCOUNT not in s.seen)
                if ok:
                    s.seen[ACCOUNT] = on
            case _:  # pragma: no cover
                raise AssertionError(command)
        return 1 if ok else None

    def _instance(self, obligation: str, subject: str, on: D
                  ) -> tuple[Ob, SchoolModel | None, D] | None:
        """(obligation, school or None for the LA, base due) if the subject owes it on `on`."""
        ob = OBLIGATIONS.get(obligation)
        if ob is None:
            return None
        if subject == "LA":
            if "la" not in ob.roles or ob.due is None or on < LA_REGISTERED:
                return None  # the LA never submits an account here: no closure owed
            return ob, None, ob.due
        s = self.schools.get(subject)
        if s is None or s.role not in ob.roles:
            return None
        if ob.due is None:
            trigger = s.seen.get(ACCOUNT)
            if trigger is None or on < trigger:
                return None
            return ob, s, trigger + 28 * DAY
        if on < s.nominated_on:
            return None
        return ob, s, ob.due

    def extension(self, obligation: str, subject: str, on: D, due: D) -> int | None:
        found = self._instance(obligation, subject, on)
        if found is None:
            return None
        _, s, base = found
        grants = (s.extensions if s else self.la_extensions).setdefault(obligation, [])
        earlier = [g for g in grants if g[0] <= on]
        in_force = max(earlier)[1] if earlier else base
        if due <= in_force or (s is not None and not self._dated(s, on)):
            return None
        grants.append((on, due))
        return 1

    def waiver(self, obligation: str, subject: str, on: D) -> int | None:
        found = self._instance(obligation, subject, on)
        if found is None:
            return None
        ob, s, _ = found
        waivers = s.waivers if s else self.la_waivers
        if s is not None:
            done = s.seen.get(ob.discharged_by) if ob.discharged_by else None
            if (done is not None and done <= on) or not self._dated(s, on):
                return None
        if obligation in waivers:
            return None
        waivers[obligation] = on
        return 1

    def retraction(self, obligation: str, subject: str, on: D) -> int | None:
        found = self._instance(obligation, subject, on)
        if found is None:
            return None
        ob, s, _ = found
        if s is None or ob.discharged_by is None or not self._dated(s, on):
            return None
        command = ob.discharged_by
        first = s.seen.get(command)
        if first is None or on < first:
            return None
        lifecycle = command in STEP_STAGE
        if lifecycle and s.stage != STEP_STAGE[command]:
            return None  # only the latest step is undone
        if command == ACCOUNT and CLOSE in s.seen:
            return None  # the closure depends on the account
        del s.seen[command]
        s.retracted[command] = on
        s.ever_retracted.add(obligation)
        if lifecycle:
            s.history.pop()
            s.stage, s.stage_on = s.history[-1], on
        return 1


# --- commands as the import format has them ---------------------------------------------------


def command_for(spec: tuple[Any, ...], prefix: str) -> dict[str, Any]:
    kind, *args = spec

    def sid(x: str) -> str:
        return prefix + x

    la = sid("LA")
    match kind:
        case "nominate":
            school, on = args
            role = "trial" if school.startswith("T") else "partner"
            return cmd("school.nominate", on.isoformat(), by=f"contact@{la.lower()}.test",
                       school=sid(school), la=la, role=role, name=f"{school} Primary")
        case "step":
            command, school, on = args
            day, name = on.isoformat(), sid(school)
            match command:
                case "school.baselined":
                    return baseline(name, on=day)
                case "school.plan_submitted":
                    return plan(name, on=day)
                case "plan-over-allocation":
                    return plan(name, on=day, total="5000.01")
                case "school.partner_plan_agreed":
                    return partner_plan(name, on=day)
                case "school.interim_report_submitted" | "school.final_report_submitted":
                    return report(command, name, day)
                case "school.financial_account_submitted":
                    return cmd(command, day, by=f"head@{name.lower()}.test", school=name,
                               lines=[{"item": "TA hours", "amount": "5100.00"}])
                case "dcsf.account_closed":
                    return cmd(command, day, subject=name)
                case "school.withdrawn":
                    return cmd(command, day, by=f"contact@{la.lower()}.test", school=name,
                               reason="the head left")
        case "extension":
            obligation, subject, on, due = args
            return cmd("dcsf.extension_granted", on.isoformat(), obligation=obligation,
                       subject=sid(subject), due=due.isoformat())
        case "waiver":
            obligation, subject, on = args
            return cmd("dcsf.obligation_waived", on.isoformat(), obligation=obligation,
                       subject=sid(subject), reason="agreed with the office")
        case "retraction":
            obligation, subject, on = args
            return cmd("dcsf.submission_retracted", on.isoformat(), obligation=obligation,
                       subject=sid(subject), reason="sent in error")
    raise AssertionError(spec)  # pragma: no cover


def predict(model: Model, spec: tuple[Any, ...]) -> int | None:
    kind, *args = spec
    return {"nominate": model.nominate, "step": model.step, "extension": model.extension,
            "waiver": model.waiver, "retraction": model.retraction}[kind](*args)


# --- what the store holds ---------------------------------------------------------------------


def event_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM extramile_events")).scalar_one()


def read_model_rows(store: Store) -> dict[str, list[str]]:
    """Every row of every read-model table, as sorted JSON (order-free, type-stable)."""
    rows = {}
    with store.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            found = conn.execute(select(table)).mappings().all()
            rows[table.name] = sorted(json.dumps(dict(r), default=str, sort_keys=True)
                                      for r in found)
    return rows


def answers(queries: Any, la: str, subjects: list[str]) -> dict[str, Any]:
    """What the query contract answers about one LA and its schools, as JSON, on a few days
    (each subject's full status on two of them)."""
    out: dict[str, Any] = {}
    for day in AS_OF:
        out[f"overdue {day}"] = queries.overdue(day, la=la)
        out[f"board {day}"] = queries.board(day, la=la)
        out[f"stages {day}"] = queries.stages(day)
        out[f"funding {day}"] = queries.funding(day, la=la)
        out[f"surveys {day}"] = queries.survey_means(day, la=la)
    for day in STATUS_AS_OF:
        for s in subjects:
            out[f"status {s} {day}"] = queries.status(s, day)
    return json.loads(json.dumps(out, default=str))


# --- the machine ------------------------------------------------------------------------------

dates = st.sampled_from(DATES)
# A date relative to the subject's latest step (so lifecycles get somewhere), or absolute.
when = st.one_of(st.tuples(st.just("rel"), st.integers(0, 90)), st.tuples(st.just("abs"), dates))
schools = st.sampled_from(SCHOOLS)
subjects = st.sampled_from([*SCHOOLS, "LA"])


def make_machine(store: Store, counter: Iterator[int],
                 tally: Counter[str]) -> type[RuleBasedStateMachine]:
    class Programme(RuleBasedStateMachine):
        """One LA (its ids prefixed per example) and up to seven schools."""

        @initialize()
        def register(self) -> None:
            self.prefix = f"H{next(counter)}"
            self.model = Model()
            self.steps = 0
            self.run_batch([], [cmd("la.register", LA_REGISTERED.isoformat(),
                                    la=self.prefix + "LA", name="An LA",
                                    contact=f"contact@{self.prefix.lower()}la.test")], 1)
            # Two trial schools and the partner to start with; the rest are nominated by rules.
            self.apply([("nominate", school, D(2009, 5, 21)) for school in ("T1", "T2", "P1")])

        # -- helpers ----------------------------------------------------------------------

        def day(self, subject: str, w: tuple[str, Any]) -> D:
            if w[0] == "abs":
                return w[1]
            s = self.model.schools.get(subject)
            return (s.stage_on if s else LA_REGISTERED) + w[1] * DAY

        def run_batch(self, specs: list[tuple[Any, ...]], commands: list[dict[str, Any]],
                      expected: int | None) -> None:
            """Execute a batch; check the engine agreed with the model and the event count."""
            before = event_count(store)
            parsed = [(n, parse_command(c)) for n, c in enumerate(commands, 1)]
            try:
                store.execute(parsed, ADMIN)
                accepted = True
            except BatchRejected as exc:
                accepted, reasons = False, [str(e) for e in exc.errors]
            after = event_count(store)
            if expected is None:
                assert not accepted, f"the model refuses, the engine stored: {commands}"
                assert after == before, f"a refused batch stored {after - before} events"
                assert reasons
            else:
                assert accepted, f"the model accepts, the engine refused: {reasons}"
                assert after - before == expected, (
                    f"{commands} stored {after - before} events, expected {expected}")
            self.steps += 1

        def apply(self, specs: list[tuple[Any, ...]]) -> None:
            trial = copy.deepcopy(self.model)
            total: int | None = 0
            for spec in specs:
                n = predict(trial, spec)
                if n is None:
                    total = None
                    break
                total += n
            if total is not None:
                self.model = trial
            kinds = "+".join(s[1] if s[0] == "step" else s[0] for s in specs)
            tally[f"{'accepted' if total is not None else 'refused'} {kinds}"] += 1
            self.run_batch(specs, [command_for(s, self.prefix) for s in specs], total)

        # -- rules ------------------------------------------------------------------------

        @rule(school=schools, on=when)
        def nominate(self, school: str, on: tuple[str, Any]) -> None:
            self.apply([("nominate", school, self.day("LA", on))])

        @rule(command=st.sampled_from(STEPS), school=schools, on=when)
        def lifecycle(self, command: str, school: str, on: tuple[str, Any]) -> None:
            """Any step, allowed or not."""
            self.apply([("step", command, school, self.day(school, on))])

        def nominated(self, pick: int) -> str:
            names = sorted(self.model.schools)
            return names[pick % len(names)]

        @rule(pick=st.integers(0, 6), gap=st.integers(0, 120), account_first=st.booleans())
        def advance_nominated(self, pick: int, gap: int, account_first: bool) -> None:
            """The next step of a school already nominated (lifecycles get somewhere)."""
            self.advance(self.nominated(pick), gap, account_first)

        @rule(pick=st.integers(0, 6), gap=st.integers(0, 60), latest=st.booleans())
        def retract_a_submission(self, pick: int, gap: int, latest: bool) -> None:
            """Retract the obligation a nominated school's latest step (or its account)
            discharged: allowed or not, the model says."""
            school = self.nominated(pick)
            s = self.model.schools[school]
            wanted = CLOSE if s.stage == CLOSED else (
                next((c for c, st_ in STEP_STAGE.items() if st_ == s.stage and c in s.seen),
                     ACCOUNT) if latest else ACCOUNT)
            discharging: dict[str, str] = {}
            for o, ob in OBLIGATIONS.items():
                discharging.setdefault(ob.discharged_by, o)
            # A latest step that discharges nothing (a withdrawal): retract the account's.
            obligation = discharging.get(wanted, discharging[ACCOUNT])
            self.apply([("retraction", obligation, school, self.day(school, ("rel", gap)))])

        @rule(school=schools, gap=st.integers(0, 120), account_first=st.booleans())
        def advance(self, school: str, gap: int, account_first: bool) -> None:
            """The school's next lifecycle step (whether it is allowed is the model's call)."""
            s = self.model.schools.get(school)
            if s is None:
                command = BASELINE
            elif s.role == "trial":
                ladder = {NOMINATED: BASELINE, BASELINED: PLAN, PLANNED: INTERIM_REPORT,
                          INTERIM: FINAL_REPORT, FINAL: CLOSE}
                command = ladder.get(s.stage, WITHDRAW)
            else:
                command = {NOMINATED: PARTNER_PLAN, PLANNED: CLOSE}.get(s.stage, WITHDRAW)
            if command == CLOSE and account_first and s is not None and ACCOUNT not in s.seen:
                command = ACCOUNT
            self.apply([("step", command, school, self.day(school, ("rel", gap)))])

        @rule(obligation=st.sampled_from(OBLIGATION_CHOICES), subject=subjects, on=when,
              due=dates)
        def extension(self, obligation: str, subject: str, on: tuple[str, Any], due: D) -> None:
            self.apply([("extension", obligation, subject, self.day(subject, on), due)])

        @rule(obligation=st.sampled_from(OBLIGATION_CHOICES), subject=subjects, on=when)
        def waiver(self, obligation: str, subject: str, on: tuple[str, Any]) -> None:
            self.apply([("waiver", obligation, subject, self.day(subject, on))])

        @rule(obligation=st.sampled_from(OBLIGATION_CHOICES), subject=subjects, on=when)
        def retraction(self, obligation: str, subject: str, on: tuple[str, Any]) -> None:
            self.apply([("retraction", obligation, subject, self.day(subject, on))])

        @rule(school=schools, first=st.sampled_from(STEPS), second=st.sampled_from(STEPS),
              on=when, gap=st.integers(0, 40))
        def batch(self, school: str, first: str, second: str, on: tuple[str, Any],
                  gap: int) -> None:
            """Nominate-or-step, then a step: all-or-nothing together."""
            day = self.day(school, on)
            head = (("nominate", school, day) if school not in self.model.schools
                    else ("step", first, school, day))
            self.apply([head, ("step", second, school, day + gap * DAY)])

        # -- invariants -------------------------------------------------------------------

        def names(self) -> list[str]:
            return [self.prefix + "LA", *(self.prefix + s for s in self.model.schools)]

        @invariant()
        def stages_are_the_models(self) -> None:
            if not hasattr(self, "model"):
                return
            shown = store.queries.stages(FAR)
            for school, s in self.model.schools.items():
                assert shown[self.prefix + school] == s.stage, school

        @invariant()
        def read_model_equals_a_full_replay(self) -> None:
            if not hasattr(self, "model"):
                return
            replayed = store.known_at(FOREVER)
            try:
                la, names = self.prefix + "LA", self.names()
                assert answers(store.queries, la, names) == answers(replayed, la, names)
            finally:
                replayed.engine.dispose()

        @invariant()
        def status_and_overdue_equal_the_aggregates(self) -> None:
            if not hasattr(self, "model"):
                return
            overdue_aggregates: dict[D, set[tuple[Any, ...]]] = {d: set() for d in AS_OF}
            for name in self.names():
                kind = "la" if name.endswith("LA") else "school"
                aggregate = store.app.repository.get(subject_id(kind, name))
                if kind == "school":
                    assert aggregate.stage == self.model.schools[name[len(self.prefix):]].stage
                model_school = self.model.schools.get(name[len(self.prefix):])
                retracted = model_school.ever_retracted if model_school else set()
                instances = [i for o in store.timeline.obligations
                             if (i := instance_of(aggregate, o)) is not None]
                for day in AS_OF:
                    # A retracted discharge counted until its retraction: the aggregate no
                    # longer remembers it, so such instances are compared after every date.
                    exact = day == FAR
                    expected = {
                        i.obligation: (i.status(day).value, i.due_in_force(day))
                        for i in instances if i.exists_on(day)
                        and (exact or i.obligation not in retracted)}
                    shown = {
                        o["obligation"]: (o["status"], o["due"])
                        for o in store.queries.status(name, day)["obligations"]
                        if exact or o["obligation"] not in retracted}
                    assert shown == expected, (name, day)
                    overdue_aggregates[day] |= {
                        (i.obligation, name, i.due_in_force(day), i.days_overdue(day))
                        for i in instances if i.exists_on(day)
                        and i.status(day) is Status.OVERDUE and i.kind.value == "deliverable"
                        and (exact or i.obligation not in retracted)}
            for day in AS_OF:
                shown_overdue = {
                    (x["obligation"], x["subject"], x["due"], x["days_overdue"])
                    for x in store.queries.overdue(day) if x["subject"] in self.names()
                    and (day == FAR or x["obligation"] not in self._retracted(x["subject"]))}
                assert shown_overdue == overdue_aggregates[day], day

        def _retracted(self, name: str) -> set[str]:
            s = self.model.schools.get(name[len(self.prefix):])
            return s.ever_retracted if s else set()

        @invariant()
        def read_model_equals_a_rebuild(self) -> None:
            if hasattr(self, "model") and self.steps % REBUILD_EVERY == 0:
                self.compare_with_rebuild()

        def teardown(self) -> None:
            if hasattr(self, "model"):
                self.compare_with_rebuild()

        def compare_with_rebuild(self) -> None:
            incremental = read_model_rows(store)
            store.projector.reset()
            store.projector.catch_up()
            assert read_model_rows(store) == incremental

    return Programme


def test_random_command_sequences_follow_the_rules_and_projections_match_replays(
        store_url: str) -> None:
    store = init_store(ADMIN, url=store_url, clock=FixedClock())
    tally: Counter[str] = Counter()
    try:
        machine = make_machine(store, itertools.count(1), tally)
        run_state_machine_as_test(machine, settings=settings(
            max_examples=scale(5, 12), stateful_step_count=scale(20, 30), deadline=None,
            database=None, suppress_health_check=list(HealthCheck)))
    finally:
        store.close()
    print(sorted(tally.items()))
    # Not vacuous: both outcomes happened, and lifecycles moved.
    accepted = sum(n for k, n in tally.items() if k.startswith("accepted"))
    refused = sum(n for k, n in tally.items() if k.startswith("refused"))
    assert accepted > 0 and refused > 0, tally
    assert any(k.startswith("accepted school.") for k in tally), tally


@pytest.mark.parametrize("spec, expected", [
    (("nominate", "T1", D(2009, 5, 1)), None),
    (("nominate", "T1", D(2009, 5, 21)), 2),
])
def test_the_model_itself_refuses_and_accepts(spec: tuple[Any, ...], expected: int | None
                                              ) -> None:
    """The reference model is not vacuous: it refuses and accepts where PROGRAMME.md says."""
    assert predict(Model(), spec) == expected


def test_the_model_follows_a_whole_trial_lifecycle_and_a_retraction() -> None:
    m = Model()
    assert m.nominate("T1", D(2009, 5, 21)) == 2
    assert m.step(PLAN, "T1", D(2009, 9, 10)) is None  # not yet baselined
    assert m.step(BASELINE, "T1", D(2009, 9, 1)) == 1
    assert m.step(PLAN, "T1", D(2009, 8, 1)) is None  # earlier than the baseline
    assert m.step(PLAN, "T1", D(2009, 9, 10)) == 1
    assert m.retraction("school.development_plan", "T1", D(2009, 9, 12)) == 1
    assert m.schools["T1"].stage == BASELINED
    assert m.step(PLAN, "T1", D(2009, 9, 11)) is None  # before the retraction
    assert m.step(PLAN, "T1", D(2009, 9, 20)) == 1
    assert m.step(ACCOUNT, "T1", D(2010, 7, 10)) == 1
    assert m.step(CLOSE, "T1", D(2010, 7, 20)) is None  # only after the final report
    assert m.extension("dcsf.account_closure", "T1", D(2010, 7, 11), D(2010, 8, 7)) is None
    assert m.extension("dcsf.account_closure", "T1", D(2010, 7, 11), D(2010, 8, 8)) == 1
    assert m.waiver("school.financial_account", "T1", D(2010, 7, 11)) is None  # discharged
    assert m.step(WITHDRAW, "T1", D(2010, 7, 12)) == 1
    assert m.step(WITHDRAW, "T1", D(2010, 7, 13)) is None
