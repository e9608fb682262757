"""A local authority: runs one Extra Mile primary cluster (4 trial schools + 1 partner)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.aggregates.base import Subject, in_post, subject_id
from engine.errors import ClusterFull, ClusterIncomplete, OverAllocation, Rejected

CLUSTER = {"trial": 4, "partner": 1}


@dataclass(frozen=True, slots=True)
class Member:
    """A school on the LA's roster, as the nomination guard needs it."""

    role: str
    nominated_on: dt.date
    withdrawn_on: dt.date | None

    def active_on(self, day: dt.date) -> bool:
        return self.nominated_on <= day and (self.withdrawn_on is None or self.withdrawn_on > day)


class LocalAuthority(Subject):
    """One LA's aggregate: registration, roster, coordinator, LA submissions and facts."""

    class Registered(Subject.Registered):
        command = "la.register"
        la: str
        name: str
        contact: str

        def apply(self, la: LocalAuthority) -> None:
            la.start(self.la, self.on)
            la.name, la.contact = self.name, self.contact
            la.schools, la.coordinators, la.closed_on = [], [], None

    class SchoolNominated(Subject.Recorded):
        """The LA nominated a school to its cluster (the roster the guards count)."""

        command, unique = "school.nominate", False
        school: str
        role: str

        def apply(self, la: LocalAuthority) -> None:
            la.schools.append(self.school)

    class NominationFormReturned(Subject.Recorded):
        command = "la.nomination_form_returned"

    class LaunchRegistrationReturned(Subject.Recorded):
        command = "la.launch_registration_returned"

    class Attended(Subject.Recorded):
        command, key_fields = "la.attended", ("event",)
        event: str

    class CoordinatorAppointed(Subject.Recorded):
        command, unique = "la.coordinator_appointed", False
        name: str
        email: str

        def apply(self, la: LocalAuthority) -> None:
            super().apply(la)
            la.coordinators.append((self.on, self.name, self.email))

    class FundingStatementSubmitted(Subject.Recorded):
        command = "la.funding_statement_submitted"
        lines: list

    class NetworkingEventHeld(Subject.Recorded):
        command, key_fields = "la.networking_event_held", ("round",)
        round: int

    class FinancialAccountSubmitted(Subject.Recorded):
        command = "la.financial_account_submitted"
        lines: list

    class ParticipationConfirmed(Subject.Recorded):
        command = "dcsf.participation_confirmed"

    class AccountClosed(Subject.Recorded):
        command = "dcsf.account_closed"

        def apply(self, la: LocalAuthority) -> None:
            super().apply(la)
            la.closed_on = self.on

    class SubmissionRetracted(Subject.SubmissionRetracted):
        def apply(self, la: LocalAuthority) -> None:
            super().apply(la)
            if self.retracted_command == LocalAuthority.AccountClosed.command:
                la.closed_on = None

    @classmethod
    def register(cls, la: str, name: str, contact: str, **meta: Any) -> LocalAuthority:
        return cls._create(cls.Registered, id=subject_id("la", la), la=la, name=name,
                           contact=contact, **meta)

    def nominate(self, school: str, role: str, roster: list[Member], **meta: Any) -> None:
        """Add a school to the cluster: at most 4 active trial and 1 active partner schools."""
        on = meta["on"]
        self.check_dated(on)
        # Active on the nomination's date: a place frees up only once the withdrawal is dated.
        active = [m for m in roster
                  if m.role == role and (m.withdrawn_on is None or m.withdrawn_on > on)]
        if len(active) >= CLUSTER[role]:
            raise ClusterFull(self.natural_id, role, CLUSTER[role])
        self.trigger_event(self.SchoolNominated, school=school, role=role, **meta)

    def submit_funding_statement(self, lines: list, allocation: Decimal, **meta: Any) -> None:
        """The LA's statement of how its funding supports the cluster: its plan, held to the
        LA's allocation as a school's plan is to the school's (an account may exceed it)."""
        planned = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
        if planned > allocation:
            raise OverAllocation(self.natural_id, planned, allocation, "funding statement")
        self.record(self.FundingStatementSubmitted, lines=lines, **meta)

    def return_nomination_form(self, roster: list[Member], **meta: Any) -> None:
        """Only with exactly 4 trial and 1 partner school active on the form's date."""
        on = meta["on"]
        self.check_dated(on)
        counts = {role: sum(1 for m in roster if m.role == role and m.active_on(on))
                  for role in CLUSTER}
        if counts != CLUSTER:
            raise ClusterIncomplete(self.natural_id, on, counts["trial"], counts["partner"])
        self.record(self.NominationFormReturned, **meta)

    def check_retractable(self, event_class: type[Subject.Recorded]) -> None:
        if event_class is LocalAuthority.FinancialAccountSubmitted and self.closed_on:
            raise Rejected(f"{self.natural_id}: its account was closed on {self.closed_on}; "
                           "the account cannot be retracted")

    def close_account(self, **meta: Any) -> None:
        account = self.first(self.FinancialAccountSubmitted.command)
        if account is None or account.on > meta["on"]:
            self.check_dated(meta["on"])
            raise Rejected(f"{self.natural_id}: no financial account submitted on or before "
                           f"{meta['on']}")
        self.record(self.AccountClosed, **meta)

    def current_coordinator(self, day: dt.date) -> tuple[str, str] | None:
        """(name, email) of the cluster coordinator in post on `day`."""
        return in_post(self.coordinators, day)
