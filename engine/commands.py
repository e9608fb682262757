"""The command vocabulary of PROGRAMME.md: one pydantic model per command name.

Validation happens once, here, at the boundary: field names, types, enumerations, calendar dates,
survey row shapes, money. The domain then trusts its inputs. Parse with `parse_command`.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MONEY = re.compile(r"^\d{1,9}\.\d{2}$")


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a real calendar date") from None


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def _money(value: Any) -> Any:
    if not isinstance(value, str) or not _MONEY.match(value):
        raise ValueError('expected an amount in pounds and pence as a string, e.g. "1250.00"')
    amount = Decimal(value)
    if amount <= 0:
        raise ValueError("amount must be more than 0")
    return value


Day = Annotated[dt.date, BeforeValidator(_iso_date)]
Email = Annotated[str, AfterValidator(_email)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Text = Annotated[str, StringConstraints(min_length=1)]
Money = Annotated[str, BeforeValidator(_money)]
Score = Annotated[int, Field(ge=1, le=10)]
PupilRow = Annotated[list[Score], Field(min_length=10, max_length=10)]
StaffRow = Annotated[list[Score], Field(min_length=12, max_length=12)]
ExtraRow = Annotated[list[Score], Field(max_length=3)]
Activity = Annotated[int, Field(ge=1, le=7)]
Event = Literal["launch_conference", "national_networking", "celebration"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class FundingLine(_Model):
    item: Text
    amount: Money


Lines = Annotated[list[FundingLine], Field(min_length=1)]


class TargetGroup(_Model):
    description: Text
    size: Annotated[int, Field(ge=1)]


class DevelopmentPlan(_Model):
    """Annex 2."""

    activity: Activity
    target_group: Text
    baseline_position: Text
    leadership: Text
    objectives: Text
    success_criteria: Text
    actions: Text
    monitoring: Text
    timeline: Text
    funding: Lines


class PartnerPlan(_Model):
    support: Text
    time: Text
    funding: Lines


class Report(_Model):
    """Annex 3 (interim and final)."""

    objectives: Text
    success_criteria: Text
    actions_taken: Text
    outcomes: Text


class CaseStudy(_Model):
    """Annex 4."""

    context: Text
    actions: Text
    impact: Text


class Command(_Model):
    """Every command: its name, the business date it happened on and who did it."""

    cmd: str
    on: Day
    by: Email

    # The field naming the command's subject, if any (school, la or subject).
    subject_field: ClassVar[str | None] = None

    @property
    def about(self) -> str:
        """The id of the subject the command is about ('dcsf' for the programme)."""
        return getattr(self, self.subject_field) if self.subject_field else "dcsf"

    def fields(self) -> dict[str, Any]:
        """The command's own fields (not cmd/on/by) as plain JSON-ready data."""
        return self.model_dump(mode="json", exclude={"cmd", "on", "by"})


class _LA(Command):
    subject_field: ClassVar[str | None] = "la"
    la: Id


class _School(Command):
    subject_field: ClassVar[str | None] = "school"
    school: Id


# --- LA and school registration -------------------------------------------------------------


class RegisterLA(_LA):
    cmd: Literal["la.register"]
    name: Text
    contact: Email


class NominateSchool(_School):
    cmd: Literal["school.nominate"]
    la: Id
    role: Literal["trial", "partner"]
    name: Text


class WithdrawSchool(_School):
    cmd: Literal["school.withdrawn"]
    reason: Text


# --- LA commands ------------------------------------------------------------------------------


class ReturnNominationForm(_LA):
    cmd: Literal["la.nomination_form_returned"]


class ReturnLALaunchRegistration(_LA):
    cmd: Literal["la.launch_registration_returned"]


class RecordLAAttendance(_LA):
    cmd: Literal["la.attended"]
    event: Event


class AppointCoordinator(_LA):
    cmd: Literal["la.coordinator_appointed"]
    name: Text
    email: Email


class RecordVisit(_School):
    cmd: Literal["la.visit_recorded"]
    la: Id
    purpose: Literal["plan_support", "spring_monitoring", "summer_monitoring"]


class SubmitFundingStatement(_LA):
    cmd: Literal["la.funding_statement_submitted"]
    lines: Lines


class HoldNetworkingEvent(_LA):
    cmd: Literal["la.networking_event_held"]
    round: Literal[1, 2, 3]


class SubmitLAFinancialAccount(_LA):
    cmd: Literal["la.financial_account_submitted"]
    lines: Lines


# --- school commands --------------------------------------------------------------------------


class ReturnSchoolLaunchRegistration(_School):
    cmd: Literal["school.launch_registration_returned"]


class RecordSchoolAttendance(_School):
    cmd: Literal["school.attended"]
    event: Event


class AppointLead(_School):
    cmd: Literal["school.lead_appointed"]
    name: Text
    email: Email


class Baseline(_School):
    cmd: Literal["school.baselined"]
    activity: Activity
    target_group: TargetGroup
    pupil_survey: Annotated[list[PupilRow], Field(min_length=1)]


class SubmitPlan(_School):
    cmd: Literal["school.plan_submitted"]
    plan: DevelopmentPlan


class AgreePartnerPlan(_School):
    cmd: Literal["school.partner_plan_agreed"]
    plan: PartnerPlan


class CompleteSurveys(_School):
    cmd: Literal["school.surveys_completed"]
    round: Literal["autumn", "spring"]
    pupil: Annotated[list[PupilRow], Field(min_length=1)]
    staff: Annotated[list[StaffRow], Field(min_length=1)]
    pupil_extra: list[ExtraRow] = Field(default_factory=list)
    staff_extra: list[ExtraRow] = Field(default_factory=list)


class SubmitInterimReport(_School):
    cmd: Literal["school.interim_report_submitted"]
    report: Report


class SubmitFinalReport(_School):
    cmd: Literal["school.final_report_submitted"]
    report: Report


class SubmitCaseStudy(_School):
    cmd: Literal["school.case_study_submitted"]
    round: Literal["interim", "final"]
    case_study: CaseStudy


class SubmitSchoolFinancialAccount(_School):
    cmd: Literal["school.financial_account_submitted"]
    lines: Lines


class SubmitAttainmentData(_School):
    cmd: Literal["school.attainment_data_submitted"]
    data: dict[str, Any]


# --- DCSF commands ----------------------------------------------------------------------------


class SendInvitations(Command):
    cmd: Literal["dcsf.invitations_sent"]


class SendLaunchInvitations(Command):
    cmd: Literal["dcsf.launch_invitations_sent"]


class LaunchWebsite(Command):
    cmd: Literal["dcsf.website_launched"]


class SupportEvaluation(Command):
    cmd: Literal["dcsf.evaluation_supported"]


class ShareFindings(Command):
    cmd: Literal["dcsf.findings_shared"]


class ConfirmParticipation(_LA):
    cmd: Literal["dcsf.participation_confirmed"]


class HoldEvent(Command):
    cmd: Literal["dcsf.event_held"]
    event: Event


class SendNewsletter(Command):
    cmd: Literal["dcsf.newsletter_sent"]
    term: Literal["autumn", "spring", "summer"]


class GivePlanFeedback(_School):
    cmd: Literal["dcsf.plan_feedback_given"]


class HoldSsaVisit(_School):
    cmd: Literal["dcsf.ssa_visit_held"]
    round: Literal[1, 2]


class PublishReport(Command):
    cmd: Literal["dcsf.report_published"]
    report: Literal["interim", "final"]


class CloseAccount(Command):
    subject_field: ClassVar[str | None] = "subject"
    cmd: Literal["dcsf.account_closed"]
    subject: Id


class GrantExtension(Command):
    subject_field: ClassVar[str | None] = "subject"
    cmd: Literal["dcsf.extension_granted"]
    obligation: Id
    subject: Id
    due: Day


class WaiveObligation(Command):
    subject_field: ClassVar[str | None] = "subject"
    cmd: Literal["dcsf.obligation_waived"]
    obligation: Id
    subject: Id
    reason: Text


class RetractSubmission(Command):
    subject_field: ClassVar[str | None] = "subject"
    cmd: Literal["dcsf.submission_retracted"]
    subject: Id
    obligation: Id
    reason: Text


COMMANDS: dict[str, type[Command]] = {
    model.model_fields["cmd"].annotation.__args__[0]: model  # type: ignore[union-attr]
    for model in (
        RegisterLA, NominateSchool, WithdrawSchool, ReturnNominationForm,
        ReturnLALaunchRegistration, RecordLAAttendance, AppointCoordinator, RecordVisit,
        SubmitFundingStatement, HoldNetworkingEvent, SubmitLAFinancialAccount,
        ReturnSchoolLaunchRegistration, RecordSchoolAttendance, AppointLead, Baseline, SubmitPlan,
        AgreePartnerPlan, CompleteSurveys, SubmitInterimReport, SubmitFinalReport,
        SubmitCaseStudy, SubmitSchoolFinancialAccount, SubmitAttainmentData, SendInvitations,
        SendLaunchInvitations, LaunchWebsite, SupportEvaluation, ShareFindings,
        ConfirmParticipation, HoldEvent, SendNewsletter, GivePlanFeedback, HoldSsaVisit,
        PublishReport, CloseAccount, GrantExtension, WaiveObligation, RetractSubmission,
    )
}  # fmt: skip

# Command name -> its own field names (what a timeline's discharged_by may match on).
VOCABULARY: dict[str, set[str]] = {
    name: set(model.model_fields) - {"cmd", "on", "by"} for name, model in COMMANDS.items()
}

_ADAPTERS = {name: TypeAdapter(model) for name, model in COMMANDS.items()}


class CommandError(ValueError):
    """A command that does not fit the vocabulary; the message is one clear line."""


def parse_command(data: Any) -> Command:
    """Validate one decoded JSON object into its command model, else raise CommandError."""
    if not isinstance(data, dict):
        raise CommandError(f"expected a JSON object, got {_json_type(data)}")
    name = data.get("cmd")
    if not isinstance(name, str):
        problem = "missing field 'cmd'" if name is None else "field 'cmd' must be a string"
        raise CommandError(problem)
    model = COMMANDS.get(name)
    if model is None:
        raise CommandError(f"unknown command {name!r}")
    nul = _nul_at(data)
    if nul is not None:
        # PostgreSQL cannot store one in text; refused on every store alike.
        raise CommandError(f"field '{nul}': contains a NUL character (\\u0000)")
    try:
        return _ADAPTERS[name].validate_python(data)
    except ValidationError as exc:
        raise CommandError(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """One line naming every field that is wrong and why."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        match err["type"]:
            case "missing":
                parts.append(f"missing field '{where}'")
            case "extra_forbidden":
                parts.append(f"unknown field '{where}'")
            case _:
                msg = err["msg"].removeprefix("Value error, ")
                parts.append(f"field '{where}': {msg}")
    return "; ".join(parts)


def _nul_at(value: Any, path: str = "") -> str | None:
    """The path of the first string (key or value) holding a NUL character, if any."""
    if isinstance(value, str):
        return path or "?" if "\x00" in value else None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, str) and "\x00" in key:
                return f"{path}.{key}".lstrip(".")
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _nul_at(item, f"{path}.{key}".lstrip("."))
        if found is not None:
            return found
    return None


def _json_type(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(value), type(value).__name__)
