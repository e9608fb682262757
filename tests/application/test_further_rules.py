"""PROGRAMME.md "Further rules": each bullet accepted where it holds and refused where broken.

Rules enforced by validation (survey rows, activities, money) are checked at the boundary with
`parse_command`; the others through the store, where a refused batch stores nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.application import BatchRejected
from engine.commands import CommandError, parse_command
from tests.builders import (
    account,
    baseline,
    cluster,
    cmd,
    nominate,
    partner_plan,
    plan,
    pupil_rows,
    register,
    report,
    staff_rows,
    to_final,
)
from tests.conftest import run

END = dt.date(2010, 9, 30)


# --- helpers ------------------------------------------------------------------------------------


def refused(store: Any, *commands: dict[str, Any]) -> str:
    """Run a batch that must be rejected; the reason of its first rejected line."""
    with pytest.raises(BatchRejected) as rejected:
        run(store, *commands)
    return rejected.value.errors[0].reason


def events(store: Any, subject: str) -> int:
    return len(store.audit(subject))


def status(store: Any, subject: str, obligation: str, day: dt.date = END) -> dict[str, Any]:
    found = [o for o in store.queries.status(subject, day)["obligations"]
             if o["obligation"] == obligation]
    assert found, f"{subject} has no instance of {obligation} on {day}"
    return found[0]


def head(school: str) -> str:
    return f"head@{school.lower()}.test"


def lead(school: str, on: str, name: str = "A Head", email: str = "") -> dict[str, Any]:
    return cmd("school.lead_appointed", on, by=head(school), school=school, name=name,
               email=email or f"lead@{school.lower()}.test")


def coordinator(la: str, on: str, name: str, email: str) -> dict[str, Any]:
    return cmd("la.coordinator_appointed", on, by=f"extramile@{la.lower()}.test", la=la,
               name=name, email=email)


def visit(school: str, purpose: str = "plan_support", la: str = "LA01",
          on: str = "2009-09-15") -> dict[str, Any]:
    return cmd("la.visit_recorded", on, by="coordinator@la01.test", la=la, school=school,
               purpose=purpose)


def networking(round_: int, on: str, la: str = "LA01") -> dict[str, Any]:
    return cmd("la.networking_event_held", on, by="coordinator@la01.test", la=la, round=round_)


def attended(school: str, event: str, on: str, by: str = "") -> dict[str, Any]:
    return cmd("school.attended", on, by=by or head(school), school=school, event=event)


def surveys(school: str, round_: str = "autumn", on: str = "2009-10-20",
            by: str = "", **rows: Any) -> dict[str, Any]:
    fields = {"pupil": pupil_rows(), "staff": staff_rows(), **rows}
    return cmd("school.surveys_completed", on, by=by or head(school), school=school,
               round=round_, **fields)


def case_study(school: str, round_: str = "interim", on: str = "2010-01-25",
               by: str = "") -> dict[str, Any]:
    return cmd("school.case_study_submitted", on, by=by or head(school), school=school,
               round=round_, case_study={"context": "c", "actions": "a", "impact": "i"})


def attainment(school: str, on: str = "2010-08-10", by: str = "") -> dict[str, Any]:
    return cmd("school.attainment_data_submitted", on, by=by or head(school), school=school,
               data={"ks2_english_l4": 0.81})


def funding_statement(la: str = "LA01", on: str = "2009-10-15", by: str = "",
                      amount: str = "7000.00") -> dict[str, Any]:
    return cmd("la.funding_statement_submitted", on, by=by or f"extramile@{la.lower()}.test",
               la=la, lines=[{"item": "coordinator time", "amount": amount}])


def la_account(la: str = "LA01", on: str = "2010-07-15", by: str = "") -> dict[str, Any]:
    return cmd("la.financial_account_submitted", on, by=by or f"extramile@{la.lower()}.test",
               la=la, lines=[{"item": "coordinator time", "amount": "7250.00"}])


def feedback(school: str, on: str = "2009-09-20") -> dict[str, Any]:
    return cmd("dcsf.plan_feedback_given", on, school=school)


def extension(obligation: str, subject: str, due: str, on: str = "2009-09-25") -> dict[str, Any]:
    return cmd("dcsf.extension_granted", on, obligation=obligation, subject=subject, due=due)


def waiver(obligation: str, subject: str, on: str = "2009-09-25") -> dict[str, Any]:
    return cmd("dcsf.obligation_waived", on, obligation=obligation, subject=subject,
               reason="agreed with the LA")


def withdraw(school: str, on: str) -> dict[str, Any]:
    return cmd("school.withdrawn", on, by="extramile@la01.test", school=school,
               reason="closing")


def form(la: str = "LA01", on: str = "2009-06-10") -> dict[str, Any]:
    return cmd("la.nomination_form_returned", on, by=f"extramile@{la.lower()}.test", la=la)


def rejects(data: dict[str, Any]) -> str:
    """Validation must refuse this command; the message."""
    with pytest.raises(CommandError) as error:
        parse_command(data)
    return str(error.value)


@pytest.fixture
def cluster_store(store: Any) -> Any:
    """LA01 with trial schools T1..T4 and partner P1, nominated 2009-05-21."""
    run(store, *cluster())
    return store


# --- every command names an existing subject ----------------------------------------------------


def test_a_command_for_a_nominated_school_is_accepted(cluster_store):
    run(cluster_store, lead("T1", "2009-07-01"))
    assert status(cluster_store, "T1", "school.lead")["status"] == "done"


def test_a_command_for_an_unknown_school_is_refused(cluster_store):
    reason = refused(cluster_store, lead("T9", "2009-07-01"))
    assert "unknown" in reason and "T9" in reason


def test_a_command_for_an_unknown_la_is_refused(cluster_store):
    reason = refused(cluster_store, funding_statement("LA09"))
    assert "unknown" in reason and "LA09" in reason


def test_an_extension_for_an_unknown_subject_is_refused(cluster_store):
    reason = refused(cluster_store, extension("school.baseline", "T9", "2009-10-31"))
    assert "T9" in reason


# --- dated on or after registration / nomination ------------------------------------------------


def test_a_command_dated_on_the_nomination_day_is_accepted(cluster_store):
    run(cluster_store, lead("T1", "2009-05-21"))
    assert status(cluster_store, "T1", "school.lead")["discharged_on"] == dt.date(2009, 5, 21)


def test_a_command_dated_before_the_nomination_is_refused(cluster_store):
    before = events(cluster_store, "T1")
    reason = refused(cluster_store, lead("T1", "2009-05-20"))
    assert "2009-05-20" in reason and "2009-05-21" in reason
    assert events(cluster_store, "T1") == before


def test_a_command_dated_before_the_la_registration_is_refused(cluster_store):
    reason = refused(cluster_store, funding_statement(on="2009-05-09"))
    assert "2009-05-10" in reason


def test_a_school_nominated_before_its_la_was_registered_is_refused(store):
    run(store, register("LA01", on="2009-05-10"))
    reason = refused(store, nominate("T1", on="2009-05-09"))
    assert "2009-05-10" in reason


# --- nothing recorded for a withdrawn school after its withdrawal date ---------------------------


def test_a_fact_dated_on_or_before_the_withdrawal_date_is_accepted(cluster_store):
    run(cluster_store, withdraw("T1", "2009-08-01"))
    run(cluster_store, lead("T1", "2009-07-01"), attended("T1", "launch_conference", "2009-07-17"))
    assert status(cluster_store, "T1", "school.lead", dt.date(2009, 7, 31))["status"] == "done"


@pytest.mark.parametrize("command", [
    lead("T1", "2009-08-02"),
    attended("T1", "launch_conference", "2009-08-02"),
    visit("T1", on="2009-09-15"),
    cmd("dcsf.ssa_visit_held", "2009-10-10", school="T1", round=1),
    extension("school.baseline", "T1", "2009-10-31", on="2009-09-25"),
], ids=["lead", "attendance", "visit", "ssa_visit", "extension"])
def test_nothing_is_recorded_for_a_withdrawn_school_after_its_withdrawal(cluster_store, command):
    run(cluster_store, withdraw("T1", "2009-08-01"))
    before = events(cluster_store, "T1")
    reason = refused(cluster_store, command)
    assert "withdrawn" in reason and "2009-08-01" in reason
    assert events(cluster_store, "T1") == before


# --- a lifecycle command may not be dated earlier than the previous lifecycle event -------------


def test_a_lifecycle_step_on_the_day_of_the_previous_one_is_accepted(cluster_store):
    run(cluster_store, baseline("T1", on="2009-09-01"), plan("T1", on="2009-09-01"))
    assert cluster_store.queries.stages(END)["T1"] == "planned"


def test_a_lifecycle_step_dated_before_the_previous_one_is_refused(cluster_store):
    run(cluster_store, baseline("T1", on="2009-09-01"))
    reason = refused(cluster_store, plan("T1", on="2009-08-31"))
    assert "2009-08-31" in reason and "2009-09-01" in reason
    assert cluster_store.queries.stages(END)["T1"] == "baselined"


def test_a_withdrawal_dated_before_the_previous_lifecycle_step_is_refused(cluster_store):
    run(cluster_store, baseline("T1", on="2009-09-01"))
    refused(cluster_store, withdraw("T1", "2009-08-15"))
    assert cluster_store.queries.stages(END)["T1"] == "baselined"


# --- submissions are accepted once; a second names the date and actor of the first --------------

FIRST_BY = "first@la01.test"
SECOND_BY = "second@la01.test"

SUBMISSIONS = {
    # name: (commands before, the submission made by `by` on `on`)
    "baseline": ([], lambda on, by: {**baseline("T1", on=on), "by": by}),
    "plan": ([baseline("T1")], lambda on, by: {**plan("T1", on=on), "by": by}),
    "partner_plan": ([], lambda on, by: {**partner_plan("P1", on=on), "by": by}),
    "interim_report": (to_final("T1")[:2], lambda on, by: report(
        "school.interim_report_submitted", "T1", on) | {"by": by}),
    "final_report": (to_final("T1")[:3], lambda on, by: report(
        "school.final_report_submitted", "T1", on) | {"by": by}),
    "case_study": ([], lambda on, by: case_study("T1", "interim", on, by)),
    "surveys": ([], lambda on, by: surveys("T1", "autumn", on, by)),
    "school_account": (to_final("T1")[:2], lambda on, by: {**account("T1", on), "by": by}),
    "la_account": ([], lambda on, by: la_account("LA01", on, by)),
    "attainment": ([], lambda on, by: attainment("T1", on, by)),
    "funding_statement": ([], lambda on, by: funding_statement("LA01", on, by)),
}


@pytest.mark.parametrize("name", list(SUBMISSIONS))
def test_a_second_submission_is_refused_naming_the_first(cluster_store, name):
    before, submission = SUBMISSIONS[name]
    run(cluster_store, *before, submission("2010-07-20", FIRST_BY))
    subject = submission("2010-07-20", FIRST_BY).get("school") or "LA01"
    stored = events(cluster_store, subject)
    reason = refused(cluster_store, submission("2010-07-25", SECOND_BY))
    assert "2010-07-20" in reason, reason
    assert FIRST_BY in reason, reason
    assert events(cluster_store, subject) == stored


def test_case_studies_and_surveys_are_one_per_round(cluster_store):
    run(cluster_store, case_study("T1", "interim"), case_study("T1", "final", on="2010-06-25"),
        surveys("T1", "autumn"), surveys("T1", "spring", on="2010-04-20"))
    assert status(cluster_store, "T1", "school.case_study.final")["status"] == "done"
    assert status(cluster_store, "T1", "school.surveys.spring")["status"] == "done"


# --- duplicate facts ----------------------------------------------------------------------------


def test_visits_for_different_purposes_are_accepted(cluster_store):
    run(cluster_store, visit("T1", "plan_support"),
        visit("T1", "spring_monitoring", on="2010-01-15"))
    assert status(cluster_store, "T1", "la.visit.spring")["status"] == "done"


def test_a_second_visit_for_the_same_purpose_is_refused(cluster_store):
    run(cluster_store, visit("T1", "plan_support", on="2009-09-15"))
    reason = refused(cluster_store, visit("T1", "plan_support", on="2009-09-28"))
    assert "2009-09-15" in reason


def test_networking_events_of_different_rounds_are_accepted(cluster_store):
    run(cluster_store, networking(1, "2009-11-10"), networking(2, "2010-03-10"))
    assert status(cluster_store, "LA01", "la.networking.2")["status"] == "done"


def test_a_second_networking_event_of_the_same_round_is_refused(cluster_store):
    run(cluster_store, networking(1, "2009-11-10"))
    reason = refused(cluster_store, networking(1, "2009-11-20"))
    assert "2009-11-10" in reason


def test_attendance_at_different_events_is_accepted(cluster_store):
    run(cluster_store, attended("T1", "launch_conference", "2009-07-17"),
        attended("T1", "national_networking", "2010-01-20"))
    assert status(cluster_store, "T1", "school.attend.national_networking")["status"] == "done"


def test_attendance_at_the_same_event_twice_is_refused(cluster_store):
    run(cluster_store, attended("T1", "launch_conference", "2009-07-17"))
    reason = refused(cluster_store, attended("T1", "launch_conference", "2009-07-17",
                                              by="deputy@t1.test"))
    assert "2009-07-17" in reason and head("T1") in reason


def test_la_attendance_at_the_same_event_twice_is_refused(cluster_store):
    la_attended = cmd("la.attended", "2009-07-17", by="extramile@la01.test", la="LA01",
                      event="launch_conference")
    run(cluster_store, la_attended)
    refused(cluster_store, la_attended)


# --- school.nominate ----------------------------------------------------------------------------


def test_a_full_cluster_is_nominated(cluster_store):
    schools = cluster_store.queries.stages(END)
    assert sorted(schools) == ["P1", "T1", "T2", "T3", "T4"]


def test_a_school_of_an_unknown_la_is_refused(store):
    reason = refused(store, nominate("T1", la="LA09"))
    assert "LA09" in reason


def test_a_school_id_already_used_is_refused(cluster_store):
    run(cluster_store, register("LA02"))
    reason = refused(cluster_store, nominate("T1", la="LA02"))
    assert "T1" in reason and "exists" in reason


@pytest.mark.parametrize("school", ["LA01", "dcsf"])
def test_a_school_id_of_an_la_or_the_programme_is_refused(cluster_store, school):
    reason = refused(cluster_store, nominate(school, role="partner"))
    assert school in reason


def test_a_fifth_active_trial_school_is_refused(cluster_store):
    reason = refused(cluster_store, nominate("T5"))
    assert "LA01" in reason and "4" in reason


def test_a_second_active_partner_school_is_refused(cluster_store):
    reason = refused(cluster_store, nominate("P2", role="partner"))
    assert "LA01" in reason and "partner" in reason


def test_a_withdrawal_frees_a_place_for_a_replacement(cluster_store):
    run(cluster_store, withdraw("T1", "2009-08-01"), nominate("T5", on="2009-08-05"),
        withdraw("P1", "2009-08-01"), nominate("P2", role="partner", on="2009-08-05"))
    stages = cluster_store.queries.stages(END)
    assert stages["T5"] == "nominated" and stages["P2"] == "nominated"


def test_a_replacement_dated_before_the_withdrawal_is_refused(cluster_store):
    """On 2009-07-01 T1 is still active (withdrawn only on 2009-08-01): T5 would be a fifth
    active trial school until then."""
    run(cluster_store, withdraw("T1", "2009-08-01"))
    reason = refused(cluster_store, nominate("T5", on="2009-07-01"))
    assert "LA01" in reason


def test_only_one_replacement_per_withdrawal(cluster_store):
    run(cluster_store, withdraw("T1", "2009-08-01"), nominate("T5", on="2009-08-05"))
    refused(cluster_store, nominate("T6", on="2009-08-06"))


# --- la.nomination_form_returned ----------------------------------------------------------------


def test_the_form_of_a_full_cluster_is_accepted(cluster_store):
    run(cluster_store, form(on="2009-05-21"))
    assert status(cluster_store, "LA01", "la.nomination_form")["status"] == "done"


def test_the_form_of_an_incomplete_cluster_is_refused(store):
    three_trial = [nominate(f"T{i}") for i in range(1, 4)]
    run(store, register(), *three_trial, nominate("P1", role="partner"))
    reason = refused(store, form())
    assert "3" in reason and "4" in reason


def test_the_form_without_a_partner_is_refused(store):
    run(store, register(), *[nominate(f"T{i}") for i in range(1, 5)])
    refused(store, form())


def test_the_form_counts_only_schools_nominated_on_or_before_its_date(cluster_store):
    reason = refused(cluster_store, form(on="2009-05-20"))
    assert "2009-05-20" in reason


def test_the_form_does_not_count_a_withdrawn_school(cluster_store):
    run(cluster_store, withdraw("T1", "2009-06-01"))
    refused(cluster_store, form(on="2009-06-10"))


def test_the_form_counts_a_replacement(cluster_store):
    run(cluster_store, withdraw("T1", "2009-06-01"), nominate("T5", on="2009-06-05"),
        form(on="2009-06-10"))
    assert status(cluster_store, "LA01", "la.nomination_form")["status"] == "done"


# --- la.visit_recorded, and trial-only submissions ----------------------------------------------


def test_a_visit_to_a_trial_school_of_the_la_is_accepted(cluster_store):
    run(cluster_store, visit("T1"))
    assert status(cluster_store, "T1", "la.visit.plan_support")["status"] == "done"


def test_a_visit_to_the_partner_school_is_refused(cluster_store):
    reason = refused(cluster_store, visit("P1"))
    assert "trial" in reason


def test_a_visit_to_a_school_of_another_la_is_refused(cluster_store):
    run(cluster_store, *cluster("LA02", prefix="B"))
    reason = refused(cluster_store, visit("BT1", la="LA01"))
    assert "BT1" in reason and "LA01" in reason


@pytest.mark.parametrize("make", [
    lambda school: surveys(school),
    lambda school: case_study(school),
    lambda school: attainment(school),
], ids=["surveys", "case_study", "attainment"])
def test_surveys_case_studies_and_attainment_are_for_trial_schools_only(cluster_store, make):
    run(cluster_store, make("T1"))
    before = events(cluster_store, "P1")
    reason = refused(cluster_store, make("P1"))
    assert "trial" in reason
    assert events(cluster_store, "P1") == before


# --- appointments -------------------------------------------------------------------------------


def in_post(store: Any, subject: str, post: str, day: str) -> tuple[str, str] | None:
    with store.engine.connect() as conn:
        return store.queries.people_in_post(dt.date.fromisoformat(day), conn).get((subject, post))


def test_a_later_lead_replaces_the_first_from_its_date(cluster_store):
    run(cluster_store, lead("T1", "2009-07-01", "Ann Able", "ann@t1.test"),
        lead("T1", "2009-11-01", "Bob Baker", "bob@t1.test"))
    assert in_post(cluster_store, "T1", "lead", "2009-10-31") == ("Ann Able", "ann@t1.test")
    assert in_post(cluster_store, "T1", "lead", "2009-11-01") == ("Bob Baker", "bob@t1.test")


def test_the_lead_obligation_is_discharged_by_the_first_appointment(cluster_store):
    run(cluster_store, lead("T1", "2009-07-01"), lead("T1", "2009-11-01", "Bob", "bob@t1.test"))
    lead_status = status(cluster_store, "T1", "school.lead")
    assert lead_status["status"] == "done"
    assert lead_status["discharged_on"] == dt.date(2009, 7, 1)


def test_an_earlier_appointment_recorded_later_discharges_the_obligation(cluster_store):
    run(cluster_store, lead("T1", "2009-11-01", "Bob", "bob@t1.test"))
    assert status(cluster_store, "T1", "school.lead")["status"] == "late"
    run(cluster_store, lead("T1", "2009-07-01", "Ann", "ann@t1.test"))
    assert status(cluster_store, "T1", "school.lead")["status"] == "done"
    assert in_post(cluster_store, "T1", "lead", "2009-12-01") == ("Bob", "bob@t1.test")


def test_a_later_coordinator_replaces_the_first(cluster_store):
    run(cluster_store, coordinator("LA01", "2009-07-10", "Cat", "cat@la01.test"),
        coordinator("LA01", "2010-01-04", "Dan", "dan@la01.test"))
    assert in_post(cluster_store, "LA01", "coordinator", "2010-01-03") == ("Cat", "cat@la01.test")
    assert in_post(cluster_store, "LA01", "coordinator", "2010-01-04") == ("Dan", "dan@la01.test")
    assert status(cluster_store, "LA01", "la.coordinator")["discharged_on"] == dt.date(2009, 7, 10)


# --- dcsf.plan_feedback_given -------------------------------------------------------------------


def test_feedback_after_the_plan_is_accepted(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1", on="2009-09-10"), feedback("T1", "2009-09-10"))
    assert status(cluster_store, "T1", "dcsf.plan_feedback")["status"] == "done"


def test_feedback_without_a_plan_is_refused(cluster_store):
    reason = refused(cluster_store, feedback("T1"))
    assert "plan" in reason


def test_feedback_dated_before_the_plan_is_refused(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1", on="2009-09-10"))
    refused(cluster_store, feedback("T1", "2009-09-09"))


def test_feedback_is_given_once(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1"), feedback("T1", "2009-09-20"))
    reason = refused(cluster_store, feedback("T1", "2009-09-22"))
    assert "2009-09-20" in reason


# --- dcsf.extension_granted ---------------------------------------------------------------------


def test_an_extension_moves_the_due_date(cluster_store):
    run(cluster_store, extension("school.baseline", "T1", "2009-10-31"))
    assert status(cluster_store, "T1", "school.baseline", dt.date(2009, 10, 15))["status"] == "open"


def test_an_extension_of_an_unknown_obligation_is_refused(cluster_store):
    reason = refused(cluster_store, extension("school.nap", "T1", "2009-10-31"))
    assert "school.nap" in reason


def test_an_extension_of_an_obligation_that_does_not_apply_is_refused(cluster_store):
    reason = refused(cluster_store, extension("school.partner_plan", "T1", "2009-11-30"))
    assert "school.partner_plan" in reason and "T1" in reason


def test_an_extension_to_the_due_date_in_force_is_refused(cluster_store):
    reason = refused(cluster_store, extension("school.baseline", "T1", "2009-09-30"))
    assert "2009-09-30" in reason


def test_an_extension_earlier_than_a_granted_one_is_refused(cluster_store):
    run(cluster_store, extension("school.baseline", "T1", "2009-10-31", on="2009-09-25"))
    reason = refused(cluster_store,
                     extension("school.baseline", "T1", "2009-10-15", on="2009-10-01"))
    assert "2009-10-31" in reason


def test_a_second_later_extension_is_accepted_and_in_force(cluster_store):
    run(cluster_store, extension("school.baseline", "T1", "2009-10-31", on="2009-09-25"),
        extension("school.baseline", "T1", "2009-11-30", on="2009-10-28"))
    day = dt.date(2009, 11, 15)
    baseline_status = status(cluster_store, "T1", "school.baseline", day)
    assert baseline_status["due"] == dt.date(2009, 11, 30)
    assert baseline_status["status"] == "open"


def test_an_extension_of_plan_feedback_waits_for_the_plan(cluster_store):
    reason = refused(cluster_store,
                     extension("dcsf.plan_feedback", "T1", "2009-10-31", on="2009-09-05"))
    assert "dcsf.plan_feedback" in reason
    run(cluster_store, baseline("T1"), plan("T1", on="2009-09-10"))
    refused(cluster_store, extension("dcsf.plan_feedback", "T1", "2009-09-24", on="2009-09-12"))
    run(cluster_store, extension("dcsf.plan_feedback", "T1", "2009-09-25", on="2009-09-12"))
    assert status(cluster_store, "T1", "dcsf.plan_feedback")["due"] == dt.date(2009, 9, 25)


def test_an_extension_of_a_programme_obligation_is_accepted(store):
    run(store, extension("dcsf.website", "dcsf", "2009-10-15", on="2009-09-20"))
    website = status(store, "dcsf", "dcsf.website", dt.date(2009, 10, 10))
    assert (website["status"], website["due"]) == ("open", dt.date(2009, 10, 15))


# --- dcsf.obligation_waived ---------------------------------------------------------------------


def test_a_waived_obligation_is_waived(cluster_store):
    run(cluster_store, waiver("school.baseline", "T1", on="2009-10-05"))
    on_the_day, the_day_before = dt.date(2009, 10, 5), dt.date(2009, 10, 4)
    assert status(cluster_store, "T1", "school.baseline", on_the_day)["status"] == "waived"
    assert status(cluster_store, "T1", "school.baseline", the_day_before)["status"] == "overdue"
    overdue = {(o["obligation"], o["subject"]) for o in cluster_store.queries.overdue(END)}
    assert ("school.baseline", "T1") not in overdue
    assert ("school.baseline", "T2") in overdue


def test_a_waiver_of_an_obligation_that_does_not_apply_is_refused(cluster_store):
    reason = refused(cluster_store, waiver("school.baseline", "P1"))
    assert "P1" in reason


def test_a_waiver_of_a_discharged_obligation_is_refused(cluster_store):
    run(cluster_store, baseline("T1", on="2009-09-01"))
    reason = refused(cluster_store, waiver("school.baseline", "T1", on="2009-09-25"))
    assert "2009-09-01" in reason
    assert status(cluster_store, "T1", "school.baseline")["status"] == "done"


# --- survey rows (validation) -------------------------------------------------------------------


def survey_data(**rows: Any) -> dict[str, Any]:
    return surveys("T1", **rows)


def test_valid_survey_rows_parse():
    parsed = parse_command(survey_data(pupil_extra=[[], [1], [1, 10, 5]], staff_extra=[[3]]))
    assert parsed.pupil_extra == [[], [1], [1, 10, 5]]


@pytest.mark.parametrize("rows", [
    {"pupil": [[5] * 9]},
    {"pupil": [[5] * 11]},
    {"pupil": [[5] * 9 + [0]]},
    {"pupil": [[5] * 9 + [11]]},
    {"pupil": [[5] * 9 + ["5"]]},
    {"pupil": [[5] * 9 + [5.0]]},
    {"pupil": []},
    {"staff": [[5] * 11]},
    {"staff": [[5] * 13]},
    {"staff": [[5] * 11 + [0]]},
    {"pupil_extra": [[1, 2, 3, 4]]},
    {"staff_extra": [[0]]},
    {"staff_extra": [[11]]},
], ids=["pupil_9", "pupil_11", "pupil_0", "pupil_11_score", "pupil_text", "pupil_float",
        "pupil_none", "staff_11", "staff_13", "staff_0", "extra_4_items", "extra_0",
        "extra_11"])
def test_bad_survey_rows_are_refused(rows):
    message = rejects(survey_data(**rows))
    assert next(iter(rows)) in message


def test_the_baseline_pupil_survey_follows_the_pupil_rule():
    assert parse_command(baseline("T1"))
    rejects({**baseline("T1"), "pupil_survey": [[5] * 12]})
    rejects({**baseline("T1"), "pupil_survey": [[5] * 9 + [0]]})


def test_survey_rows_carry_no_pupil_names():
    rejects(survey_data(pupil=[{"name": "Amy", "answers": [5] * 10}]))
    rejects({**survey_data(), "pupil_names": ["Amy"]})


# --- activities 1..7 ----------------------------------------------------------------------------


@pytest.mark.parametrize("activity", [1, 7])
def test_activities_1_to_7_are_accepted(activity):
    assert parse_command({**baseline("T1"), "activity": activity}).activity == activity
    plan_data = plan("T1")
    plan_data["plan"] = {**plan_data["plan"], "activity": activity}
    assert parse_command(plan_data)


@pytest.mark.parametrize("activity", [0, 8, "2"])
def test_activities_outside_1_to_7_are_refused(activity):
    assert "activity" in rejects({**baseline("T1"), "activity": activity})
    plan_data = plan("T1")
    plan_data["plan"] = {**plan_data["plan"], "activity": activity}
    assert "activity" in rejects(plan_data)


# --- funding lines ------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0.01", "1250.00", "5000.00"])
def test_a_funding_line_in_pounds_and_pence_is_accepted(amount):
    assert parse_command(funding_statement(amount=amount)).lines[0].amount == amount


@pytest.mark.parametrize("amount", ["0.00", "-1.00", "100", "100.5", "1,250.00", 100.0, 100, ""])
def test_a_funding_line_not_a_positive_pounds_pence_string_is_refused(amount):
    assert "amount" in rejects(funding_statement(amount=amount))


@pytest.mark.parametrize("amount", ["0.00", 5000.0])
def test_plan_and_account_lines_follow_the_money_rule(amount):
    rejects(plan("T1", total=amount))
    rejects(partner_plan("P1", total=amount))
    rejects(account("T1", amount=amount))


def test_funding_lines_need_an_item_and_at_least_one_line():
    rejects(cmd("la.funding_statement_submitted", "2009-10-15", la="LA01", lines=[]))
    rejects(cmd("la.funding_statement_submitted", "2009-10-15", la="LA01",
                lines=[{"amount": "10.00"}]))


# --- plan funding within the allocation; accounts may exceed it ---------------------------------


def test_a_trial_plan_exactly_at_the_allocation_is_accepted(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1", total="5000.00"))
    assert cluster_store.queries.stages(END)["T1"] == "planned"


def test_a_trial_plan_over_the_allocation_is_refused(cluster_store):
    run(cluster_store, baseline("T1"))
    reason = refused(cluster_store, plan("T1", total="5000.01"))
    assert "5000.01" in reason and "5000.00" in reason
    assert cluster_store.queries.stages(END)["T1"] == "baselined"


def test_a_plan_over_the_allocation_across_lines_is_refused(cluster_store):
    over = plan("T1")
    over["plan"] = {**over["plan"], "funding": [{"item": "TA hours", "amount": "4000.00"},
                                                {"item": "trips", "amount": "1000.01"}]}
    run(cluster_store, baseline("T1"))
    refused(cluster_store, over)


def test_a_partner_plan_exactly_at_the_allocation_is_accepted(cluster_store):
    run(cluster_store, partner_plan("P1", total="3000.00"))
    assert cluster_store.queries.stages(END)["P1"] == "planned"


def test_a_partner_plan_over_the_allocation_is_refused(cluster_store):
    reason = refused(cluster_store, partner_plan("P1", total="3000.01"))
    assert "3000.00" in reason
    assert cluster_store.queries.stages(END)["P1"] == "nominated"


def test_an_la_funding_statement_exactly_at_the_allocation_is_accepted(cluster_store):
    run(cluster_store, funding_statement(amount="7000.00"))
    assert status(cluster_store, "LA01", "la.funding_statement")["status"] == "done"


def test_an_la_funding_statement_over_the_allocation_is_refused(cluster_store):
    reason = refused(cluster_store, funding_statement(amount="7000.01"))
    assert "funding statement" in reason and "7000.01" in reason and "7000.00" in reason
    assert status(cluster_store, "LA01", "la.funding_statement")["status"] != "done"


def test_an_account_may_exceed_the_allocation(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1", amount="6200.00"),
        partner_plan("P1"), account("P1", amount="4000.00"))
    assert status(cluster_store, "T1", "school.financial_account")["status"] == "done"
    assert status(cluster_store, "P1", "school.financial_account")["status"] == "done"


# --- an import batch is all or nothing ----------------------------------------------------------


def test_a_batch_whose_last_command_fails_stores_nothing(store):
    batch = [*cluster(), baseline("T1"), plan("T1"), nominate("T5")]
    with pytest.raises(BatchRejected) as rejected:
        run(store, *batch)
    assert [(e.line, e.command) for e in rejected.value.errors] == [(9, "school.nominate")]
    assert store.queries.stages(END) == {}
    assert store.queries.overdue(END, la="LA01") == []
    with pytest.raises(LookupError):
        store.queries.subject("LA01")


def test_every_rejected_line_of_a_batch_is_reported(store):
    batch = [register(), lead("T9", "2009-07-01"), nominate("T1"), baseline("P9")]
    with pytest.raises(BatchRejected) as rejected:
        run(store, *batch)
    assert [e.line for e in rejected.value.errors] == [2, 4]


def test_the_same_batch_without_the_bad_command_is_stored(store):
    assert run(store, *cluster(), baseline("T1"), plan("T1")) == 8
    assert store.queries.stages(END)["T1"] == "planned"
