"""Corrections without deletion: dcsf.submission_retracted."""

from __future__ import annotations

import datetime as dt

import pytest

from engine.application import BatchRejected
from engine.bootstrap import Store
from tests.builders import (
    baseline,
    cluster,
    cmd,
    plan,
    pupil_rows,
    report,
    staff_rows,
)
from tests.conftest import run


def retract(obligation: str, subject: str, on: str) -> dict:
    return cmd("dcsf.submission_retracted", on, subject=subject, obligation=obligation,
               reason="submitted for the wrong school")


def surveys(school: str, on: str) -> dict:
    return cmd("school.surveys_completed", on, by="head@t1.test", school=school, round="autumn",
               pupil=pupil_rows(), staff=staff_rows())


def status_of(store: Store, subject: str, obligation: str, day: str) -> str:
    result = store.queries.status(subject, dt.date.fromisoformat(day))
    return next(o["status"] for o in result["obligations"] if o["obligation"] == obligation)


def refused(store: Store, *commands: dict) -> str:
    with pytest.raises(BatchRejected) as caught:
        run(store, *commands)
    return caught.value.errors[0].reason


@pytest.fixture
def planned(store: Store) -> Store:
    run(store, *cluster(), baseline("T1"), plan("T1"))
    return store


def test_a_retracted_submission_opens_the_obligation_again_from_the_retraction(
        planned: Store) -> None:
    run(planned, surveys("T1", "2009-10-10"), retract("school.surveys.autumn", "T1", "2009-11-02"))
    assert status_of(planned, "T1", "school.surveys.autumn", "2009-10-20") == "done"
    assert status_of(planned, "T1", "school.surveys.autumn", "2009-11-01") == "done"
    assert status_of(planned, "T1", "school.surveys.autumn", "2009-11-02") == "overdue"
    overdue = planned.queries.overdue(dt.date(2009, 11, 5))
    assert ("school.surveys.autumn", "T1") in {(o["obligation"], o["subject"]) for o in overdue}


def test_the_audit_shows_the_submission_and_its_retraction(planned: Store) -> None:
    run(planned, surveys("T1", "2009-10-10"), retract("school.surveys.autumn", "T1", "2009-11-02"))
    events = [e["event"] for e in planned.audit("T1")]
    assert events[-2:] == ["SurveysCompleted", "SubmissionRetracted"]
    assert planned.audit("T1")[-1]["payload"]["reason"] == "submitted for the wrong school"


def test_the_submission_can_be_made_again_on_or_after_the_retraction(planned: Store) -> None:
    run(planned, surveys("T1", "2009-10-10"), retract("school.surveys.autumn", "T1", "2009-11-02"))
    reason = refused(planned, surveys("T1", "2009-11-01"))
    assert "retraction" in reason
    run(planned, surveys("T1", "2009-11-04"))
    assert status_of(planned, "T1", "school.surveys.autumn", "2009-11-03") == "overdue"
    assert status_of(planned, "T1", "school.surveys.autumn", "2009-11-04") == "late"
    assert status_of(planned, "T1", "school.surveys.autumn", "2009-10-20") == "done"


def test_the_latest_lifecycle_step_is_undone_and_its_stage_goes_back(planned: Store) -> None:
    run(planned, report("school.interim_report_submitted", "T1", "2010-01-20"),
        retract("school.interim_report", "T1", "2010-01-25"))
    assert planned.queries.stages(dt.date(2010, 1, 22))["T1"] == "interim_submitted"
    assert planned.queries.stages(dt.date(2010, 1, 25))["T1"] == "planned"
    run(planned, report("school.interim_report_submitted", "T1", "2010-01-28"))
    assert planned.queries.stages(dt.date(2010, 1, 28))["T1"] == "interim_submitted"


def test_a_step_a_later_step_depends_on_is_not_undone(planned: Store) -> None:
    reason = refused(planned, retract("school.baseline", "T1", "2009-09-20"))
    assert "later step" in reason and "planned" in reason


def test_a_plan_with_feedback_given_is_not_undone(planned: Store) -> None:
    run(planned, cmd("dcsf.plan_feedback_given", "2009-09-15", school="T1"))
    reason = refused(planned, retract("school.development_plan", "T1", "2009-09-20"))
    assert "dcsf.plan_feedback_given" in reason


def test_retracting_a_plan_withdraws_the_feedback_it_triggered(planned: Store) -> None:
    run(planned, retract("school.development_plan", "T1", "2009-09-20"))
    obligations = {o["obligation"] for o in planned.queries.status(
        "T1", dt.date(2009, 9, 25))["obligations"]}
    assert "dcsf.plan_feedback" not in obligations
    assert planned.queries.stages(dt.date(2009, 9, 25))["T1"] == "baselined"


def test_nothing_submitted_cannot_be_retracted(planned: Store) -> None:
    reason = refused(planned, retract("school.surveys.autumn", "T1", "2009-11-02"))
    assert "no submission to retract" in reason


def test_a_retraction_dated_before_the_submission_is_refused(planned: Store) -> None:
    run(planned, surveys("T1", "2009-10-10"))
    assert "before" in refused(planned, retract("school.surveys.autumn", "T1", "2009-10-05"))


def test_an_officer_cannot_retract(planned: Store) -> None:
    planned.add_user("officer@dcsf.test", "officer", None, "admin@extramile.test")
    run(planned, surveys("T1", "2009-10-10"))
    with pytest.raises(BatchRejected) as caught:
        run(planned, retract("school.surveys.autumn", "T1", "2009-11-02"),
            user="officer@dcsf.test")
    assert "may not record dcsf.submission_retracted" in caught.value.errors[0].reason
