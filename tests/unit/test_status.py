"""PROGRAMME.md "Status of an obligation instance" and the obligations table.

Pure tests of `Instance` first; then relative obligations and withdrawals through a real store;
then every obligation of the table pinned against the bundled timeline.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine import timeline
from engine.obligations import Extension, Instance, Status
from engine.timeline import Kind
from tests.builders import account, baseline, cluster, cmd, nominate, partner_plan, plan, to_final
from tests.conftest import run


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def baseline_instance(kind: Kind = Kind.DELIVERABLE, *extensions: tuple[str, str],
                      **facts: str) -> Instance:
    """school.baseline for T1: opens 2009-07-01, due 2009-09-30; facts as ISO dates."""
    return Instance(
        obligation="school.baseline", subject="T1", kind=kind, opens=d("2009-07-01"),
        due=d("2009-09-30"), exists_from=d("2009-05-21"),
        **{name: d(day) for name, day in facts.items()},
        extensions=tuple(Extension(d(granted), d(due)) for granted, due in extensions),
    )


def status_on(instance: Instance, day: str) -> Status:
    return instance.status(d(day))


# --- each status ----------------------------------------------------------------------------


def test_before_it_opens_an_instance_is_upcoming():
    assert status_on(baseline_instance(), "2009-06-30") is Status.UPCOMING


@pytest.mark.parametrize("day", ["2009-07-01", "2009-08-15", "2009-09-30"])
def test_from_opens_to_the_due_date_an_instance_is_open(day):
    assert status_on(baseline_instance(), day) is Status.OPEN


def test_after_the_due_date_a_deliverable_is_overdue():
    instance = baseline_instance()
    assert status_on(instance, "2009-10-01") is Status.OVERDUE
    assert instance.days_overdue(d("2009-10-01")) == 1
    assert instance.days_overdue(d("2009-10-15")) == 15


def test_after_the_due_date_an_attendance_is_missed():
    assert status_on(baseline_instance(Kind.ATTENDANCE), "2009-10-01") is Status.MISSED
    assert status_on(baseline_instance(Kind.ATTENDANCE), "2009-09-30") is Status.OPEN


@pytest.mark.parametrize("discharged", ["2009-06-15", "2009-07-01", "2009-09-30"])
def test_discharged_on_or_before_the_due_date_is_done(discharged):
    instance = baseline_instance(discharged_on=discharged)
    assert status_on(instance, "2009-09-30") is Status.DONE
    assert status_on(instance, "2010-09-30") is Status.DONE


def test_discharged_after_the_due_date_is_late():
    instance = baseline_instance(discharged_on="2009-10-02")
    assert status_on(instance, "2009-10-02") is Status.LATE
    assert status_on(baseline_instance(Kind.ATTENDANCE, discharged_on="2009-10-02"),
                     "2009-10-05") is Status.LATE


def test_a_discharge_dated_after_the_day_does_not_count_yet():
    instance = baseline_instance(discharged_on="2009-10-02")
    assert status_on(instance, "2009-10-01") is Status.OVERDUE
    assert status_on(instance, "2009-09-01") is Status.OPEN


def test_waived_from_the_waiver_date():
    instance = baseline_instance(waived_on="2009-10-05")
    assert status_on(instance, "2009-10-04") is Status.OVERDUE
    assert status_on(instance, "2009-10-05") is Status.WAIVED


def test_withdrawn_from_the_withdrawal_date():
    instance = baseline_instance(withdrawn_on="2009-08-01")
    assert status_on(instance, "2009-07-31") is Status.OPEN
    assert status_on(instance, "2009-08-01") is Status.WITHDRAWN
    assert status_on(instance, "2010-09-30") is Status.WITHDRAWN


# --- precedence -----------------------------------------------------------------------------

PRECEDENCE = [
    # facts, kind, status on 2009-10-15
    ({"withdrawn_on": "2009-10-10", "waived_on": "2009-10-01", "discharged_on": "2009-09-01"},
     Kind.DELIVERABLE, Status.WITHDRAWN),
    ({"withdrawn_on": "2009-10-10", "discharged_on": "2009-10-12"}, Kind.DELIVERABLE,
     Status.WITHDRAWN),
    ({"waived_on": "2009-10-01", "discharged_on": "2009-09-01"}, Kind.DELIVERABLE,
     Status.WAIVED),
    ({"waived_on": "2009-10-10", "discharged_on": "2009-10-12"}, Kind.DELIVERABLE,
     Status.WAIVED),
    ({"waived_on": "2009-10-12"}, Kind.ATTENDANCE, Status.WAIVED),
    ({"discharged_on": "2009-09-01", "withdrawn_on": "2009-10-16"}, Kind.DELIVERABLE,
     Status.DONE),
    ({"discharged_on": "2009-10-12", "waived_on": "2009-10-16"}, Kind.DELIVERABLE,
     Status.LATE),
    ({"discharged_on": "2009-10-12"}, Kind.ATTENDANCE, Status.LATE),
    ({"waived_on": "2009-10-16", "withdrawn_on": "2009-10-16"}, Kind.DELIVERABLE,
     Status.OVERDUE),
    ({"discharged_on": "2009-10-16"}, Kind.ATTENDANCE, Status.MISSED),
]


@pytest.mark.parametrize(("facts", "kind", "expected"), PRECEDENCE)
def test_statuses_take_precedence_in_the_programme_order(facts, kind, expected):
    assert status_on(baseline_instance(kind, **facts), "2009-10-15") is expected


def test_overdue_comes_before_upcoming():
    """An instance past its due date but not yet open (due before opens) is overdue."""
    instance = Instance("x", "T1", Kind.DELIVERABLE, opens=d("2009-10-01"), due=d("2009-09-01"))
    assert status_on(instance, "2009-09-15") is Status.OVERDUE


# --- extensions -----------------------------------------------------------------------------

TWICE = (("2009-09-25", "2009-10-31"), ("2009-10-28", "2009-11-30"))


@pytest.mark.parametrize(("day", "due"), [
    ("2009-09-24", "2009-09-30"),
    ("2009-09-25", "2009-10-31"),
    ("2009-10-27", "2009-10-31"),
    ("2009-10-28", "2009-11-30"),
    ("2010-01-01", "2009-11-30"),
])
def test_the_latest_extension_granted_on_or_before_the_day_is_in_force(day, due):
    assert baseline_instance(Kind.DELIVERABLE, *TWICE).due_in_force(d(day)) == d(due)


def test_extensions_are_in_force_whatever_order_they_are_listed_in():
    instance = baseline_instance(Kind.DELIVERABLE, *reversed(TWICE))
    assert instance.due_in_force(d("2009-10-28")) == d("2009-11-30")
    assert instance.due_in_force(d("2009-10-27")) == d("2009-10-31")


def test_status_and_days_overdue_follow_the_extension_in_force():
    instance = baseline_instance(Kind.DELIVERABLE, *TWICE)
    assert status_on(instance, "2009-10-15") is Status.OPEN
    assert status_on(instance, "2009-10-29") is Status.OPEN
    assert status_on(instance, "2009-12-05") is Status.OVERDUE
    assert instance.days_overdue(d("2009-12-05")) == 5


def test_between_due_and_a_late_extension_the_instance_was_overdue():
    instance = baseline_instance(Kind.DELIVERABLE, ("2009-10-10", "2009-10-31"))
    assert status_on(instance, "2009-10-09") is Status.OVERDUE
    assert instance.days_overdue(d("2009-10-09")) == 9
    assert status_on(instance, "2009-10-10") is Status.OPEN


def test_an_extension_granted_after_the_day_does_not_count():
    instance = baseline_instance(Kind.DELIVERABLE, ("2009-11-01", "2009-11-30"))
    assert instance.due_in_force(d("2009-10-31")) == d("2009-09-30")
    assert status_on(instance, "2009-10-31") is Status.OVERDUE


def test_a_discharge_within_the_extension_is_done_not_late():
    extended = baseline_instance(Kind.DELIVERABLE, ("2009-09-25", "2009-10-31"),
                                 discharged_on="2009-10-20")
    assert status_on(extended, "2009-11-15") is Status.DONE
    assert status_on(baseline_instance(discharged_on="2009-10-20"), "2009-11-15") is Status.LATE


def test_a_discharge_after_the_extended_due_date_is_late():
    extended = baseline_instance(Kind.DELIVERABLE, ("2009-09-25", "2009-10-31"),
                                 discharged_on="2009-11-02")
    assert status_on(extended, "2009-11-15") is Status.LATE


def test_an_attendance_within_its_extension_is_not_missed():
    extended = baseline_instance(Kind.ATTENDANCE, ("2009-09-25", "2009-10-31"))
    assert status_on(extended, "2009-10-15") is Status.OPEN
    assert status_on(extended, "2009-11-01") is Status.MISSED


# --- instances through the store: relative obligations, withdrawals --------------------------


def obligations(store: Any, subject: str, day: str) -> dict[str, dict[str, Any]]:
    found = store.queries.status(subject, d(day))["obligations"]
    return {o["obligation"]: o for o in found}


@pytest.fixture
def cluster_store(store: Any) -> Any:
    run(store, *cluster())
    return store


def test_plan_feedback_opens_the_day_the_plan_is_submitted(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1", on="2009-09-10"))
    assert "dcsf.plan_feedback" not in obligations(cluster_store, "T1", "2009-09-09")
    feedback = obligations(cluster_store, "T1", "2009-09-10")["dcsf.plan_feedback"]
    assert (feedback["status"], feedback["opens"], feedback["due"]) == (
        "open", d("2009-09-10"), d("2009-09-24"))
    assert obligations(cluster_store, "T1", "2009-09-24")["dcsf.plan_feedback"]["status"] == "open"
    late = obligations(cluster_store, "T1", "2009-09-25")["dcsf.plan_feedback"]
    assert (late["status"], late["days_overdue"]) == ("overdue", 1)


def test_plan_feedback_given_in_time_is_done(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1", on="2009-09-10"),
        cmd("dcsf.plan_feedback_given", "2009-09-24", school="T1"))
    feedback = obligations(cluster_store, "T1", "2009-10-01")["dcsf.plan_feedback"]
    assert (feedback["status"], feedback["discharged_on"]) == ("done", d("2009-09-24"))


def test_a_school_without_a_plan_owes_no_plan_feedback(cluster_store):
    assert "dcsf.plan_feedback" not in obligations(cluster_store, "T1", "2010-09-30")
    run(cluster_store, partner_plan("P1"))
    assert "dcsf.plan_feedback" not in obligations(cluster_store, "P1", "2010-09-30")


def test_a_school_account_opens_its_closure_due_28_days_later(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1", on="2010-07-10"))
    assert "dcsf.account_closure" not in obligations(cluster_store, "T1", "2010-07-09")
    closure = obligations(cluster_store, "T1", "2010-07-10")["dcsf.account_closure"]
    assert (closure["status"], closure["due"]) == ("open", d("2010-08-07"))
    late = obligations(cluster_store, "T1", "2010-08-08")["dcsf.account_closure"]
    assert (late["status"], late["days_overdue"]) == ("overdue", 1)
    overdue = cluster_store.queries.overdue(d("2010-08-08"), responsible="dcsf")
    closures = [o for o in overdue if o["obligation"] == "dcsf.account_closure"]
    assert [(o["subject"], o["due"], o["days_overdue"]) for o in closures] == [
        ("T1", d("2010-08-07"), 1)]


def test_an_la_account_opens_its_closure_and_closing_it_discharges_it(cluster_store):
    run(cluster_store, cmd("la.financial_account_submitted", "2010-07-15", la="LA01",
                           lines=[{"item": "coordinator", "amount": "7000.00"}]),
        cmd("dcsf.account_closed", "2010-08-20", subject="LA01"))
    closure = obligations(cluster_store, "LA01", "2010-07-15")["dcsf.account_closure"]
    assert (closure["status"], closure["due"]) == ("open", d("2010-08-12"))
    assert obligations(cluster_store, "LA01", "2010-08-19")["dcsf.account_closure"]["status"] == (
        "overdue")
    assert obligations(cluster_store, "LA01", "2010-08-20")["dcsf.account_closure"]["status"] == (
        "late")


@pytest.fixture
def replaced(cluster_store: Any) -> Any:
    """T1 withdrawn on 2009-08-01, T5 nominated in its place on 2009-08-05."""
    run(cluster_store,
        cmd("school.withdrawn", "2009-08-01", school="T1", reason="amalgamated"),
        nominate("T5", on="2009-08-05"))
    return cluster_store


def test_a_withdrawn_school_owes_nothing_from_its_withdrawal(replaced):
    before = obligations(replaced, "T1", "2009-07-31")
    assert before["school.lead"]["status"] == "open"
    assert before["school.launch_registration"]["status"] == "overdue"
    after = obligations(replaced, "T1", "2009-10-15")
    assert after and {o["status"] for o in after.values()} == {"withdrawn"}
    assert replaced.queries.status("T1", d("2009-10-15"))["stage"] == "withdrawn"


def test_a_withdrawn_school_leaves_the_overdue_list(replaced):
    def overdue_subjects(day: str) -> set[str]:
        return {o["subject"] for o in replaced.queries.overdue(d(day), responsible="school")}

    assert "T1" in overdue_subjects("2009-07-31")
    assert "T1" not in overdue_subjects("2009-08-01")


def test_a_replacement_owes_everything_from_its_nomination(replaced):
    assert obligations(replaced, "T5", "2009-08-04") == {}
    owed = obligations(replaced, "T5", "2009-10-15")
    assert owed["school.launch_registration"]["status"] == "overdue"
    assert owed["school.baseline"]["status"] == "overdue"
    assert owed["school.baseline"]["days_overdue"] == 15
    assert owed["school.surveys.autumn"]["status"] == "open"
    assert set(owed) == set(obligations(replaced, "T2", "2009-10-15"))


def test_the_office_extends_and_waives_for_a_replacement(replaced):
    run(replaced,
        cmd("dcsf.extension_granted", "2009-08-10", obligation="school.baseline", subject="T5",
            due="2009-11-30"),
        cmd("dcsf.obligation_waived", "2009-08-10", obligation="school.attend.launch",
            subject="T5", reason="nominated after the conference"))
    owed = obligations(replaced, "T5", "2009-10-15")
    assert (owed["school.baseline"]["status"], owed["school.baseline"]["due"]) == (
        "open", d("2009-11-30"))
    assert owed["school.attend.launch"]["status"] == "waived"
    overdue = {(o["obligation"], o["subject"])
               for o in replaced.queries.overdue(d("2009-10-15"))}
    assert ("school.baseline", "T5") not in overdue
    assert ("school.baseline", "T2") in overdue


# --- every obligation of PROGRAMME.md's table, pinned against the bundled timeline ------------

D, A = "deliverable", "attendance"
TABLE = [
    # id, responsible, per, opens, due (relative: trigger(s), +days), discharged by, kind
    ("dcsf.invitations", "dcsf", "programme", "2009-05-01", "2009-05-31",
     "dcsf.invitations_sent", D),
    ("dcsf.confirm_participation", "dcsf", "la", "2009-06-01", "2009-06-30",
     "dcsf.participation_confirmed", D),
    ("dcsf.launch_invitations", "dcsf", "programme", "2009-06-01", "2009-06-30",
     "dcsf.launch_invitations_sent", D),
    ("dcsf.launch_conference", "dcsf", "programme", "2009-07-17", "2009-07-17",
     "dcsf.event_held event=launch_conference", D),
    ("dcsf.newsletter.autumn", "dcsf", "programme", "2009-09-01", "2009-09-30",
     "dcsf.newsletter_sent term=autumn", D),
    ("dcsf.website", "dcsf", "programme", "2009-09-01", "2009-09-30",
     "dcsf.website_launched", D),
    ("dcsf.plan_feedback", "dcsf", "trial_school", "school.plan_submitted", "+14",
     "dcsf.plan_feedback_given", D),
    ("dcsf.ssa_visit.1", "dcsf", "trial_school", "2009-10-01", "2009-10-31",
     "dcsf.ssa_visit_held round=1", D),
    ("dcsf.newsletter.spring", "dcsf", "programme", "2010-01-01", "2010-01-31",
     "dcsf.newsletter_sent term=spring", D),
    ("dcsf.national_networking", "dcsf", "programme", "2010-01-01", "2010-01-31",
     "dcsf.event_held event=national_networking", D),
    ("dcsf.interim_report", "dcsf", "programme", "2010-01-01", "2010-01-31",
     "dcsf.report_published report=interim", D),
    ("dcsf.ssa_visit.2", "dcsf", "trial_school", "2010-04-01", "2010-04-30",
     "dcsf.ssa_visit_held round=2", D),
    ("dcsf.newsletter.summer", "dcsf", "programme", "2010-05-01", "2010-05-31",
     "dcsf.newsletter_sent term=summer", D),
    ("dcsf.final_report", "dcsf", "programme", "2010-07-01", "2010-07-31",
     "dcsf.report_published report=final", D),
    ("dcsf.celebration", "dcsf", "programme", "2010-07-01", "2010-07-31",
     "dcsf.event_held event=celebration", D),
    ("dcsf.evaluation_support", "dcsf", "programme", "2010-07-01", "2010-07-31",
     "dcsf.evaluation_supported", D),
    ("dcsf.findings", "dcsf", "programme", "2010-08-01", "2010-08-31",
     "dcsf.findings_shared", D),
    ("dcsf.account_closure", "dcsf", "school_or_la",
     "school.financial_account_submitted la.financial_account_submitted", "+28",
     "dcsf.account_closed", D),
    ("la.nomination_form", "la", "la", "2009-05-01", "2009-06-30",
     "la.nomination_form_returned", D),
    ("la.launch_registration", "la", "la", "2009-06-01", "2009-06-30",
     "la.launch_registration_returned", D),
    ("la.attend.launch", "la", "la", "2009-07-17", "2009-07-17",
     "la.attended event=launch_conference", A),
    ("la.coordinator", "la", "la", "2009-07-01", "2009-09-30",
     "la.coordinator_appointed", D),
    ("la.visit.plan_support", "la", "trial_school", "2009-09-01", "2009-09-30",
     "la.visit_recorded purpose=plan_support", D),
    ("la.funding_statement", "la", "la", "2009-10-01", "2009-10-31",
     "la.funding_statement_submitted", D),
    ("la.networking.1", "la", "la", "2009-11-01", "2009-11-30",
     "la.networking_event_held round=1", D),
    ("la.visit.spring", "la", "trial_school", "2010-01-01", "2010-01-31",
     "la.visit_recorded purpose=spring_monitoring", D),
    ("la.attend.national_networking", "la", "la", "2010-01-01", "2010-01-31",
     "la.attended event=national_networking", A),
    ("la.networking.2", "la", "la", "2010-03-01", "2010-03-31",
     "la.networking_event_held round=2", D),
    ("la.visit.summer", "la", "trial_school", "2010-05-01", "2010-05-31",
     "la.visit_recorded purpose=summer_monitoring", D),
    ("la.networking.3", "la", "la", "2010-06-01", "2010-06-30",
     "la.networking_event_held round=3", D),
    ("la.financial_account", "la", "la", "2010-07-01", "2010-07-31",
     "la.financial_account_submitted", D),
    ("la.attend.celebration", "la", "la", "2010-07-01", "2010-07-31",
     "la.attended event=celebration", A),
    ("school.launch_registration", "school", "school", "2009-06-01", "2009-06-30",
     "school.launch_registration_returned", D),
    ("school.attend.launch", "school", "school", "2009-07-17", "2009-07-17",
     "school.attended event=launch_conference", A),
    ("school.lead", "school", "school", "2009-06-01", "2009-09-30",
     "school.lead_appointed", D),
    ("school.baseline", "school", "trial_school", "2009-07-01", "2009-09-30",
     "school.baselined", D),
    ("school.development_plan", "school", "trial_school", "2009-07-01", "2009-09-30",
     "school.plan_submitted", D),
    ("school.partner_plan", "school", "partner_school", "2009-07-01", "2009-10-31",
     "school.partner_plan_agreed", D),
    ("school.surveys.autumn", "school", "trial_school", "2009-10-01", "2009-10-31",
     "school.surveys_completed round=autumn", D),
    ("school.attend.national_networking", "school", "school", "2010-01-01", "2010-01-31",
     "school.attended event=national_networking", A),
    ("school.interim_report", "school", "trial_school", "2010-01-01", "2010-01-31",
     "school.interim_report_submitted", D),
    ("school.case_study.interim", "school", "trial_school", "2010-01-01", "2010-01-31",
     "school.case_study_submitted round=interim", D),
    ("school.surveys.spring", "school", "trial_school", "2010-04-01", "2010-04-30",
     "school.surveys_completed round=spring", D),
    ("school.final_report", "school", "trial_school", "2010-06-01", "2010-06-30",
     "school.final_report_submitted", D),
    ("school.case_study.final", "school", "trial_school", "2010-06-01", "2010-06-30",
     "school.case_study_submitted round=final", D),
    ("school.financial_account", "school", "school", "2010-07-01", "2010-07-31",
     "school.financial_account_submitted", D),
    ("school.attend.celebration", "school", "school", "2010-07-01", "2010-07-31",
     "school.attended event=celebration", A),
    ("school.attainment_data", "school", "trial_school", "2010-08-01", "2010-08-31",
     "school.attainment_data_submitted", D),
]


def as_row(o: timeline.Obligation) -> tuple[str, ...]:
    """An obligation of the loaded timeline in the table's terms."""
    if o.relative:
        opens, due = " ".join(o.trigger), f"+{o.due_days}"
    else:
        opens, due = str(o.opens), str(o.due)
    discharge = " ".join([o.discharged_by.command,
                          *(f"{k}={v}" for k, v in o.discharged_by.match.items())])
    return (o.id, o.responsible.value, o.per.value, opens, due, discharge, o.kind.value)


@pytest.fixture(scope="module")
def loaded() -> timeline.Timeline:
    return timeline.load()


def test_the_table_has_48_obligations_in_the_handbook_order(loaded):
    assert len(TABLE) == 48
    assert [o.id for o in loaded.obligations] == [row[0] for row in TABLE]


@pytest.mark.parametrize("row", TABLE, ids=[row[0] for row in TABLE])
def test_each_obligation_matches_the_table(loaded, row):
    assert as_row(loaded.by_id[row[0]]) == row
