"""One handler per command: load the aggregates it needs, call their guarded methods.

Handlers work on a `UnitOfWork` (an aggregate cache for one batch); nothing is stored until the
application saves the whole batch at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from engine import commands as c
from engine.aggregates.base import Subject, subject_id
from engine.aggregates.local_authority import LocalAuthority, Member
from engine.aggregates.programme import PROGRAMME, Programme
from engine.aggregates.school import School
from engine.errors import AlreadyExists, ObligationRejected, Rejected, UnknownSubject
from engine.obligations import Extension, Instance
from engine.timeline import Obligation, Timeline


class UnitOfWork:
    """The aggregates one batch reads and changes, each loaded once."""

    def __init__(self, get: Callable[[Any], Any], timeline: Timeline) -> None:
        self._get = get
        self.timeline = timeline
        self._cache: dict[Any, Any] = {}

    def load(self, kind: str, natural_id: str) -> Any | None:
        key = subject_id(kind, natural_id)
        if key not in self._cache:
            try:
                self._cache[key] = self._get(key)
            except AggregateNotFoundError:
                self._cache[key] = None
        return self._cache[key]

    def add(self, aggregate: Any) -> None:
        self._cache[aggregate.id] = aggregate

    def changed(self) -> list[Any]:
        return [a for a in self._cache.values() if a is not None and a.pending_events]

    def discard(self) -> None:
        """Forget pending changes (a rejected batch)."""
        self._cache.clear()

    def la(self, la: str) -> LocalAuthority:
        found = self.load("la", la)
        if found is None:
            raise UnknownSubject("LA", la)
        return found

    def school(self, school: str) -> School:
        found = self.load("school", school)
        if found is None:
            raise UnknownSubject("school", school)
        return found

    def programme(self, meta: dict[str, Any]) -> Programme:
        found = self.load("programme", PROGRAMME)
        if found is None:
            found = Programme.open(**meta)
            self.add(found)
        return found

    def subject(self, natural_id: str, meta: dict[str, Any]) -> Subject:
        """Any subject by id: the programme, a school or an LA."""
        if natural_id == PROGRAMME:
            return self.programme(meta)
        found = self.load("school", natural_id) or self.load("la", natural_id)
        if found is None:
            raise UnknownSubject("subject", natural_id)
        return found

    def check_new_id(self, natural_id: str) -> None:
        """Subject ids are unique across LAs and schools, and 'dcsf' is the programme's."""
        if natural_id == PROGRAMME:
            raise Rejected(f"{PROGRAMME!r} is the programme's own id")
        for existing_kind in ("la", "school"):
            found = self.load(existing_kind, natural_id)
            if found is not None:
                label = "LA" if existing_kind == "la" else "school"
                raise AlreadyExists(label, natural_id, found.registered_on)


# --- obligation instances as the aggregates know them -------------------------------------------


def subject_kind(subject: Subject) -> tuple[str, str | None]:
    if isinstance(subject, School):
        return "school", subject.role
    if isinstance(subject, LocalAuthority):
        return "la", None
    return "programme", None


def instance_of(subject: Subject, o: Obligation) -> Instance | None:
    """The instance of obligation `o` for this subject, or None if it has none (yet)."""
    if not o.applies_to(*subject_kind(subject)):
        return None
    if o.relative:
        triggers = [s.on for cmd in o.trigger if (s := subject.first(cmd)) is not None]
        if not triggers:
            return None
        exists_from = opens = min(triggers)
        due = opens + dt.timedelta(days=o.due_days or 0)
    else:
        assert o.opens is not None and o.due is not None
        opens, due = o.opens, o.due
        exists_from = None if isinstance(subject, Programme) else subject.registered_on
    done = subject.discharge_of(o.discharged_by.command, o.discharged_by.match)
    return Instance(
        obligation=o.id, subject=subject.natural_id, kind=o.kind, opens=opens, due=due,
        exists_from=exists_from, discharged_on=done.on if done else None,
        waived_on=subject.waivers.get(o.id),
        withdrawn_on=getattr(subject, "withdrawn_on", None),
        extensions=tuple(Extension(g, d) for g, d in subject.extensions.get(o.id, [])),
    )


def _instance_for_office(
    uow: UnitOfWork, cmd: Any, meta: dict[str, Any]
) -> tuple[Subject, Instance]:
    subject = uow.subject(cmd.subject, meta)
    o = uow.timeline.by_id.get(cmd.obligation)
    if o is None:
        raise ObligationRejected(f"unknown obligation {cmd.obligation!r}")
    if not o.applies_to(*subject_kind(subject)):
        raise ObligationRejected(f"obligation {o.id} does not apply to {cmd.subject}")
    instance = instance_of(subject, o)
    if instance is None or not instance.exists_on(cmd.on):
        raise ObligationRejected(f"{cmd.subject} owes no {o.id} on {cmd.on} (not yet triggered)")
    return subject, instance


# --- handlers -----------------------------------------------------------------------------------


def register_la(uow: UnitOfWork, cmd: c.RegisterLA, meta: dict[str, Any]) -> None:
    uow.check_new_id(cmd.la)
    uow.add(LocalAuthority.register(la=cmd.la, name=cmd.name, contact=cmd.contact, **meta))


def nominate_school(uow: UnitOfWork, cmd: c.NominateSchool, meta: dict[str, Any]) -> None:
    la = uow.la(cmd.la)
    uow.check_new_id(cmd.school)
    la.nominate(cmd.school, cmd.role, _roster(uow, la), **meta)
    uow.add(School.nominate(school=cmd.school, la=cmd.la, role=cmd.role, name=cmd.name, **meta))


def return_nomination_form(uow: UnitOfWork, cmd: c.ReturnNominationForm,
                           meta: dict[str, Any]) -> None:
    la = uow.la(cmd.la)
    la.return_nomination_form(_roster(uow, la), **meta)


def _roster(uow: UnitOfWork, la: LocalAuthority) -> list[Member]:
    schools = [uow.school(s) for s in la.schools]
    return [Member(s.role, s.registered_on, s.withdrawn_on) for s in schools]


def record_visit(uow: UnitOfWork, cmd: c.RecordVisit, meta: dict[str, Any]) -> None:
    uow.la(cmd.la).check_dated(cmd.on)
    uow.school(cmd.school).record_visit(cmd.la, cmd.purpose, **meta)


def grant_extension(uow: UnitOfWork, cmd: c.GrantExtension, meta: dict[str, Any]) -> None:
    subject, instance = _instance_for_office(uow, cmd, meta)
    in_force = instance.due_in_force(cmd.on)
    if cmd.due <= in_force:
        raise ObligationRejected(
            f"extension of {cmd.obligation} for {cmd.subject} to {cmd.due} is not later than "
            f"the due date in force on {cmd.on} ({in_force})")
    subject.grant_extension(cmd.obligation, cmd.due, in_force, **meta)


def waive_obligation(uow: UnitOfWork, cmd: c.WaiveObligation, meta: dict[str, Any]) -> None:
    subject, instance = _instance_for_office(uow, cmd, meta)
    if instance.discharged_on is not None and instance.discharged_on <= cmd.on:
        raise ObligationRejected(
            f"{cmd.obligation} for {cmd.subject} was already discharged on "
            f"{instance.discharged_on}: nothing to waive")
    subject.waive(cmd.obligation, cmd.reason, **meta)


def retract_submission(uow: UnitOfWork, cmd: c.RetractSubmission,
                       meta: dict[str, Any]) -> None:
    subject, _ = _instance_for_office(uow, cmd, meta)
    o = uow.timeline.by_id[cmd.obligation]
    subject.retract(o.id, o.discharged_by.command, dict(o.discharged_by.match), cmd.reason,
                    **meta)


def close_account(uow: UnitOfWork, cmd: c.CloseAccount, meta: dict[str, Any]) -> None:
    subject = uow.subject(cmd.subject, meta)
    if isinstance(subject, Programme):
        raise Rejected("the programme has no financial account: name a school or an LA")
    subject.close_account(**meta)  # type: ignore[attr-defined]


def _school_method(method: str, with_allocation: bool = False) -> Handler:
    def handle(uow: UnitOfWork, cmd: Any, meta: dict[str, Any]) -> None:
        school = uow.school(cmd.school)
        fields = cmd.fields()
        fields.pop("school")
        if with_allocation:
            fields["allocation"] = uow.timeline.allocation("school", school.role)
        getattr(school, method)(**fields, **meta)

    return handle


def submit_funding_statement(uow: UnitOfWork, cmd: Any, meta: dict[str, Any]) -> None:
    fields = cmd.fields()
    la = uow.la(fields.pop("la"))
    la.submit_funding_statement(**fields, allocation=uow.timeline.allocation("la", None), **meta)


def _fact(kind: str, event_class: type[Subject.Recorded]) -> Handler:
    """A handler that records a plain fact about the command's subject."""

    def handle(uow: UnitOfWork, cmd: Any, meta: dict[str, Any]) -> None:
        fields = cmd.fields()
        if kind == "programme":
            subject: Subject = uow.programme(meta)
        else:
            natural_id = fields.pop(kind)
            subject = uow.school(natural_id) if kind == "school" else uow.la(natural_id)
        subject.record(event_class, **fields, **meta)

    return handle


Handler = Callable[[UnitOfWork, Any, dict[str, Any]], None]

HANDLERS: dict[str, Handler] = {
    "la.register": register_la,
    "school.nominate": nominate_school,
    "school.withdrawn": _school_method("withdraw"),
    "la.nomination_form_returned": return_nomination_form,
    "la.launch_registration_returned": _fact("la", LocalAuthority.LaunchRegistrationReturned),
    "la.attended": _fact("la", LocalAuthority.Attended),
    "la.coordinator_appointed": _fact("la", LocalAuthority.CoordinatorAppointed),
    "la.visit_recorded": record_visit,
    "la.funding_statement_submitted": submit_funding_statement,
    "la.networking_event_held": _fact("la", LocalAuthority.NetworkingEventHeld),
    "la.financial_account_submitted": _fact("la", LocalAuthority.FinancialAccountSubmitted),
    "school.launch_registration_returned": _fact("school", School.LaunchRegistrationReturned),
    "school.attended": _fact("school", School.Attended),
    "school.lead_appointed": _fact("school", School.LeadAppointed),
    "school.baselined": _school_method("baseline"),
    "school.plan_submitted": _school_method("submit_plan", with_allocation=True),
    "school.partner_plan_agreed": _school_method("agree_partner_plan", with_allocation=True),
    "school.surveys_completed": _school_method("complete_surveys"),
    "school.interim_report_submitted": _school_method("submit_interim_report"),
    "school.final_report_submitted": _school_method("submit_final_report"),
    "school.case_study_submitted": _school_method("submit_case_study"),
    "school.financial_account_submitted": _school_method("submit_financial_account"),
    "school.attainment_data_submitted": _school_method("submit_attainment_data"),
    "dcsf.invitations_sent": _fact("programme", Programme.InvitationsSent),
    "dcsf.launch_invitations_sent": _fact("programme", Programme.LaunchInvitationsSent),
    "dcsf.website_launched": _fact("programme", Programme.WebsiteLaunched),
    "dcsf.evaluation_supported": _fact("programme", Programme.EvaluationSupported),
    "dcsf.findings_shared": _fact("programme", Programme.FindingsShared),
    "dcsf.participation_confirmed": _fact("la", LocalAuthority.ParticipationConfirmed),
    "dcsf.event_held": _fact("programme", Programme.EventHeld),
    "dcsf.newsletter_sent": _fact("programme", Programme.NewsletterSent),
    "dcsf.plan_feedback_given": _school_method("give_plan_feedback"),
    "dcsf.ssa_visit_held": _fact("school", School.SsaVisitHeld),
    "dcsf.report_published": _fact("programme", Programme.ReportPublished),
    "dcsf.account_closed": close_account,
    "dcsf.extension_granted": grant_extension,
    "dcsf.obligation_waived": waive_obligation,
    "dcsf.submission_retracted": retract_submission,
}
