"""A trial or partner school of a cluster, and its lifecycle.

Trial: nominated -> baselined -> planned -> interim_submitted -> final_submitted -> account_closed.
Partner: nominated -> planned (partner plan agreed) -> account_closed.
Either may be withdrawn (terminal) before account_closed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine.aggregates.base import Subject, in_post, subject_id
from engine.errors import (
    AlreadyRecorded,
    DatedTooEarly,
    OverAllocation,
    Rejected,
    SubjectWithdrawn,
    WrongRole,
    WrongStage,
)

NOMINATED = "nominated"
BASELINED = "baselined"
PLANNED = "planned"
INTERIM_SUBMITTED = "interim_submitted"
FINAL_SUBMITTED = "final_submitted"
ACCOUNT_CLOSED = "account_closed"
WITHDRAWN = "withdrawn"

TRIAL_STAGES = (NOMINATED, BASELINED, PLANNED, INTERIM_SUBMITTED, FINAL_SUBMITTED, ACCOUNT_CLOSED)
PARTNER_STAGES = (NOMINATED, PLANNED, ACCOUNT_CLOSED)


class School(Subject):
    """One school's aggregate: its lifecycle stage and everything recorded about it."""

    class Nominated(Subject.Registered):
        command = "school.nominate"
        school: str
        la: str
        role: str
        name: str

        def apply(self, school: School) -> None:
            school.start(self.school, self.on)
            school.la, school.role, school.name = self.la, self.role, self.name
            school.stage, school.stage_on = NOMINATED, self.on
            school.history = [NOMINATED]
            school.withdrawn_on = None
            school.leads = []

    class Lifecycle(Subject.Recorded):
        """A recorded step that moves the school to a new stage."""

        stage = ""

        def apply(self, school: School) -> None:
            super().apply(school)
            school.stage, school.stage_on = self.stage, self.on
            school.history.append(self.stage)

    class SubmissionRetracted(Subject.SubmissionRetracted):
        def apply(self, school: School) -> None:
            super().apply(school)
            if self.stage is not None:
                school.history.pop()
                school.stage, school.stage_on = self.stage, self.on

    class Withdrawn(Lifecycle):
        command, stage = "school.withdrawn", WITHDRAWN
        reason: str

        def apply(self, school: School) -> None:
            super().apply(school)
            school.withdrawn_on = self.on

    class Baselined(Lifecycle):
        command, stage = "school.baselined", BASELINED
        activity: int
        target_group: dict
        pupil_survey: list

    class DevelopmentPlanSubmitted(Lifecycle):
        command, stage = "school.plan_submitted", PLANNED
        plan: dict

    class PartnerPlanAgreed(Lifecycle):
        command, stage = "school.partner_plan_agreed", PLANNED
        plan: dict

    class InterimReportSubmitted(Lifecycle):
        command, stage = "school.interim_report_submitted", INTERIM_SUBMITTED
        report: dict

    class FinalReportSubmitted(Lifecycle):
        command, stage = "school.final_report_submitted", FINAL_SUBMITTED
        report: dict

    class AccountClosed(Lifecycle):
        command, stage = "dcsf.account_closed", ACCOUNT_CLOSED

    class LaunchRegistrationReturned(Subject.Recorded):
        command = "school.launch_registration_returned"

    class Attended(Subject.Recorded):
        command, key_fields = "school.attended", ("event",)
        event: str

    class LeadAppointed(Subject.Recorded):
        command, unique = "school.lead_appointed", False
        name: str
        email: str

        def apply(self, school: School) -> None:
            super().apply(school)
            school.leads.append((self.on, self.name, self.email))

    class SurveysCompleted(Subject.Recorded):
        command, key_fields = "school.surveys_completed", ("round",)
        round: str
        pupil: list
        staff: list
        pupil_extra: list
        staff_extra: list

    class CaseStudySubmitted(Subject.Recorded):
        command, key_fields = "school.case_study_submitted", ("round",)
        round: str
        case_study: dict

    class FinancialAccountSubmitted(Subject.Recorded):
        command = "school.financial_account_submitted"
        lines: list

    class AttainmentDataSubmitted(Subject.Recorded):
        command = "school.attainment_data_submitted"
        data: dict

    class CoordinatorVisitRecorded(Subject.Recorded):
        command, key_fields = "la.visit_recorded", ("purpose",)
        la: str
        purpose: str

    class PlanFeedbackGiven(Subject.Recorded):
        command = "dcsf.plan_feedback_given"

    class SsaVisitHeld(Subject.Recorded):
        command, key_fields = "dcsf.ssa_visit_held", ("round",)
        round: int

    @classmethod
    def nominate(cls, school: str, la: str, role: str, name: str, **meta: Any) -> School:
        return cls._create(cls.Nominated, id=subject_id("school", school), school=school, la=la,
                           role=role, name=name, **meta)

    # --- guards -------------------------------------------------------------------------------

    @property
    def trial(self) -> bool:
        return self.role == "trial"

    def check_dated(self, on: dt.date) -> None:
        """Nothing dated before nomination, nor after withdrawal."""
        super().check_dated(on)
        if self.withdrawn_on is not None and on > self.withdrawn_on:
            raise SubjectWithdrawn(self.natural_id, self.withdrawn_on, on)

    def _check_trial(self, action: str) -> None:
        if not self.trial:
            raise WrongRole(self.natural_id, self.role, action)

    def _step(self, event_class: type[Lifecycle], action: str, allowed: tuple[str, ...],
              **kwargs: Any) -> None:
        on = kwargs["on"]
        self.check_dated(on)
        self.check_after_retraction(event_class, kwargs)
        first = self.first(event_class.command)
        if first is not None:
            raise AlreadyRecorded(event_class.command, self.natural_id, first.on, first.by,
                                  f"; it is now at stage {self.stage}")
        if self.stage not in allowed:
            raise WrongStage(self.natural_id, action, self.stage, " or ".join(allowed))
        if on < self.stage_on:
            raise DatedTooEarly(self.natural_id, on, self.stage_on,
                                f"its previous lifecycle step ({self.stage})")
        self.trigger_event(event_class, **kwargs)

    def check_retractable(self, event_class: type[Subject.Recorded]) -> None:
        """A lifecycle step is undone only if it is the latest; nothing is undone that a later
        step (plan feedback, an account closure) depends on."""
        if issubclass(event_class, School.Lifecycle) and self.stage != event_class.stage:
            raise WrongStage(self.natural_id, f"have its {event_class.command} retracted",
                             self.stage, f"{event_class.stage}: a later step depends on it")
        dependants = {School.DevelopmentPlanSubmitted: School.PlanFeedbackGiven,
                      School.FinancialAccountSubmitted: School.AccountClosed}
        later = dependants.get(event_class)
        if later is not None and self.first(later.command) is not None:
            raise Rejected(f"{self.natural_id}: {later.command} depends on the "
                           f"{event_class.command}; it cannot be retracted")

    def stage_after_retracting(self, event_class: type[Subject.Recorded]) -> str | None:
        if issubclass(event_class, School.Lifecycle):
            return self.history[-2]
        return None

    # --- lifecycle ----------------------------------------------------------------------------

    def withdraw(self, reason: str, **meta: Any) -> None:
        if self.stage == WITHDRAWN:
            raise WrongStage(self.natural_id, "be withdrawn", self.stage, "not withdrawn")
        allowed = tuple(s for s in TRIAL_STAGES if s != ACCOUNT_CLOSED)
        self._step(self.Withdrawn, "be withdrawn", allowed, reason=reason, **meta)

    def baseline(self, activity: int, target_group: dict, pupil_survey: list, **meta: Any) -> None:
        self._check_trial("the baseline")
        self._step(self.Baselined, "be baselined", (NOMINATED,), activity=activity,
                   target_group=target_group, pupil_survey=pupil_survey, **meta)

    def _check_funding(self, plan: dict, allocation: Decimal) -> None:
        planned = sum((Decimal(line["amount"]) for line in plan["funding"]), Decimal("0.00"))
        if planned > allocation:
            raise OverAllocation(self.natural_id, planned, allocation)

    def submit_plan(self, plan: dict, allocation: Decimal, **meta: Any) -> None:
        self._check_trial("the development plan")
        self._check_funding(plan, allocation)
        self._step(self.DevelopmentPlanSubmitted, "submit a development plan", (BASELINED,),
                   plan=plan, **meta)

    def agree_partner_plan(self, plan: dict, allocation: Decimal, **meta: Any) -> None:
        if self.role != "partner":
            raise Rejected(f"{self.natural_id} is a trial school: a partner plan is for the "
                           "partner school")
        self._check_funding(plan, allocation)
        self._step(self.PartnerPlanAgreed, "agree a partner plan", (NOMINATED,), plan=plan, **meta)

    def submit_interim_report(self, report: dict, **meta: Any) -> None:
        self._check_trial("the interim report")
        self._step(self.InterimReportSubmitted, "submit the interim report", (PLANNED,),
                   report=report, **meta)

    def submit_final_report(self, report: dict, **meta: Any) -> None:
        self._check_trial("the final report")
        self._step(self.FinalReportSubmitted, "submit the final report", (INTERIM_SUBMITTED,),
                   report=report, **meta)

    def close_account(self, **meta: Any) -> None:
        account = self.first(self.FinancialAccountSubmitted.command)
        if account is None or account.on > meta["on"]:
            raise Rejected(f"{self.natural_id}: no financial account submitted on or before "
                           f"{meta['on']}")
        allowed = (FINAL_SUBMITTED,) if self.trial else (PLANNED,)
        self._step(self.AccountClosed, "have its account closed", allowed, **meta)

    # --- submissions and facts ----------------------------------------------------------------

    def submit_financial_account(self, lines: list, **meta: Any) -> None:
        """Once, at stage planned or later on the account's own date."""
        on = meta["on"]
        self.check_dated(on)
        first = self.first(self.FinancialAccountSubmitted.command)
        if first is not None:  # named as a duplicate whatever the stage (closed, withdrawn)
            raise AlreadyRecorded(self.FinancialAccountSubmitted.command, self.natural_id,
                                  first.on, first.by)
        allowed = (PLANNED, INTERIM_SUBMITTED, FINAL_SUBMITTED)
        if self.stage not in allowed:
            raise WrongStage(self.natural_id, "submit a financial account", self.stage,
                             "planned or later")
        plan = (self.DevelopmentPlanSubmitted if self.trial else self.PartnerPlanAgreed).command
        planned = self.first(plan)
        if planned is not None and on < planned.on:
            raise DatedTooEarly(self.natural_id, on, planned.on, f"its plan ({plan})")
        self.record(self.FinancialAccountSubmitted, lines=lines, **meta)

    def complete_surveys(self, round: str, pupil: list, staff: list, pupil_extra: list,
                         staff_extra: list, **meta: Any) -> None:
        self._check_trial("the perception surveys")
        self.record(self.SurveysCompleted, round=round, pupil=pupil,
                    staff=staff, pupil_extra=pupil_extra, staff_extra=staff_extra, **meta)

    def submit_case_study(self, round: str, case_study: dict, **meta: Any) -> None:
        self._check_trial("a case study")
        self.record(self.CaseStudySubmitted, round=round,
                    case_study=case_study, **meta)

    def submit_attainment_data(self, data: dict, **meta: Any) -> None:
        self._check_trial("attainment data")
        self.record(self.AttainmentDataSubmitted, data=data, **meta)

    def record_visit(self, la: str, purpose: str, **meta: Any) -> None:
        if la != self.la:
            raise Rejected(f"{self.natural_id} is not a school of {la}")
        self._check_trial("a coordinator visit")
        self.record(self.CoordinatorVisitRecorded, la=la, purpose=purpose,
                    **meta)

    def give_plan_feedback(self, **meta: Any) -> None:
        plan = self.first(self.DevelopmentPlanSubmitted.command)
        if plan is None or plan.on > meta["on"]:
            self.check_dated(meta["on"])
            raise Rejected(f"{self.natural_id}: no development plan submitted on or before "
                           f"{meta['on']}")
        self.record(self.PlanFeedbackGiven, **meta)

    def current_lead(self, day: dt.date) -> tuple[str, str] | None:
        """(name, email) of the project lead in post on `day`."""
        return in_post(self.leads, day)

