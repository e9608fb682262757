"""PROGRAMME.md "Lifecycle": every row of the table, accepted where allowed, refused otherwise.

A refused command is rejected with a reason and stores nothing: the subject's audit trail and its
stage are unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from engine.application import BatchRejected
from tests.builders import (
    account,
    baseline,
    cluster,
    cmd,
    partner_plan,
    plan,
    report,
    to_final,
)
from tests.conftest import run

END = dt.date(2010, 9, 30)
INTERIM = "school.interim_report_submitted"
FINAL = "school.final_report_submitted"


# --- helpers ------------------------------------------------------------------------------------


def stage(store: Any, school: str, day: dt.date = END) -> str | None:
    return store.queries.stages(day)[school]


def refused(store: Any, subject: str, *commands: dict[str, Any]) -> str:
    """Run a batch that must be rejected; check nothing was stored for `subject`; the reason."""
    events_before = len(store.audit(subject))
    stage_before = store.queries.stages(END).get(subject)
    with pytest.raises(BatchRejected) as rejected:
        run(store, *commands)
    assert len(store.audit(subject)) == events_before
    assert store.queries.stages(END).get(subject) == stage_before
    return rejected.value.errors[0].reason


def interim(school: str, on: str = "2010-01-20") -> dict[str, Any]:
    return report(INTERIM, school, on)


def final(school: str, on: str = "2010-06-20") -> dict[str, Any]:
    return report(FINAL, school, on)


def close(subject: str, on: str = "2010-07-31") -> dict[str, Any]:
    return cmd("dcsf.account_closed", on, subject=subject)


def withdraw(school: str, on: str = "2010-08-01") -> dict[str, Any]:
    return cmd("school.withdrawn", on, by="extramile@la01.test", school=school,
               reason="head teacher left")


def la_account(la: str = "LA01", on: str = "2010-07-15") -> dict[str, Any]:
    return cmd("la.financial_account_submitted", on, by=f"extramile@{la.lower()}.test", la=la,
               lines=[{"item": "coordinator time", "amount": "6500.00"}])


@pytest.fixture
def cluster_store(store: Any) -> Any:
    """LA01 with trial schools T1..T4 and partner P1, all just nominated."""
    run(store, *cluster())
    return store


# --- school.baselined ---------------------------------------------------------------------------


def test_a_trial_school_at_nominated_is_baselined(cluster_store):
    run(cluster_store, baseline("T1"))
    assert stage(cluster_store, "T1") == "baselined"


def test_a_partner_school_cannot_be_baselined(cluster_store):
    reason = refused(cluster_store, "P1", baseline("P1"))
    assert "P1" in reason and "trial" in reason
    assert stage(cluster_store, "P1") == "nominated"


def test_a_planned_school_cannot_be_baselined_again(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1"))
    reason = refused(cluster_store, "T1", baseline("T1", on="2009-09-20"))
    assert "planned" in reason
    assert stage(cluster_store, "T1") == "planned"


# --- school.plan_submitted ----------------------------------------------------------------------


def test_a_baselined_trial_school_submits_its_plan(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1"))
    assert stage(cluster_store, "T1") == "planned"


def test_a_plan_before_the_baseline_is_refused(cluster_store):
    reason = refused(cluster_store, "T1", plan("T1"))
    assert "nominated" in reason and "baselined" in reason
    assert stage(cluster_store, "T1") == "nominated"


def test_a_plan_after_the_interim_report_is_refused(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1"), interim("T1"))
    refused(cluster_store, "T1", plan("T1", on="2010-02-01"))
    assert stage(cluster_store, "T1") == "interim_submitted"


def test_a_partner_school_cannot_submit_a_development_plan(cluster_store):
    reason = refused(cluster_store, "P1", plan("P1", total="3000.00"))
    assert "trial" in reason


# --- school.partner_plan_agreed -----------------------------------------------------------------


def test_a_partner_school_at_nominated_agrees_its_plan(cluster_store):
    run(cluster_store, partner_plan("P1"))
    assert stage(cluster_store, "P1") == "planned"


def test_a_trial_school_cannot_agree_a_partner_plan(cluster_store):
    reason = refused(cluster_store, "T1", partner_plan("T1"))
    assert "partner" in reason
    assert stage(cluster_store, "T1") == "nominated"


def test_a_partner_plan_cannot_be_agreed_twice(cluster_store):
    run(cluster_store, partner_plan("P1"))
    refused(cluster_store, "P1", partner_plan("P1", on="2009-10-20"))
    assert stage(cluster_store, "P1") == "planned"


# --- school.interim_report_submitted ------------------------------------------------------------


def test_a_planned_trial_school_submits_its_interim_report(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1"), interim("T1"))
    assert stage(cluster_store, "T1") == "interim_submitted"


def test_an_interim_report_before_the_plan_is_refused(cluster_store):
    run(cluster_store, baseline("T1"))
    reason = refused(cluster_store, "T1", interim("T1"))
    assert "baselined" in reason and "planned" in reason
    assert stage(cluster_store, "T1") == "baselined"


def test_a_partner_school_cannot_submit_an_interim_report(cluster_store):
    run(cluster_store, partner_plan("P1"))
    reason = refused(cluster_store, "P1", interim("P1"))
    assert "trial" in reason
    assert stage(cluster_store, "P1") == "planned"


# --- school.final_report_submitted --------------------------------------------------------------


def test_a_trial_school_after_its_interim_report_submits_its_final_report(cluster_store):
    run(cluster_store, *to_final("T1"))
    assert stage(cluster_store, "T1") == "final_submitted"


def test_a_final_report_without_an_interim_report_is_refused(cluster_store):
    run(cluster_store, baseline("T1"), plan("T1"))
    reason = refused(cluster_store, "T1", final("T1"))
    assert "planned" in reason and "interim_submitted" in reason
    assert stage(cluster_store, "T1") == "planned"


def test_a_partner_school_cannot_submit_a_final_report(cluster_store):
    run(cluster_store, partner_plan("P1"))
    refused(cluster_store, "P1", final("P1"))


# --- school.financial_account_submitted ---------------------------------------------------------


@pytest.mark.parametrize("steps", [1, 2, 3],
                         ids=["planned", "interim_submitted", "final_submitted"])
def test_a_trial_school_at_planned_or_later_submits_its_account(cluster_store, steps):
    run(cluster_store, baseline("T1"), *to_final("T1")[1:steps + 1])
    before = stage(cluster_store, "T1")
    run(cluster_store, account("T1"))
    assert stage(cluster_store, "T1") == before  # no change of stage
    assert cluster_store.audit("T1")[-1]["command"] == "school.financial_account_submitted"


def test_a_partner_school_at_planned_submits_its_account(cluster_store):
    run(cluster_store, partner_plan("P1"), account("P1", amount="3100.00"))
    assert stage(cluster_store, "P1") == "planned"


def test_an_account_at_nominated_is_refused(cluster_store):
    reason = refused(cluster_store, "P1", account("P1"))
    assert "nominated" in reason


def test_an_account_at_baselined_is_refused(cluster_store):
    run(cluster_store, baseline("T1"))
    reason = refused(cluster_store, "T1", account("T1"))
    assert "baselined" in reason


def test_an_account_is_accepted_once(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1"))
    reason = refused(cluster_store, "T1", account("T1", on="2010-07-20", amount="5300.00"))
    assert "2010-07-10" in reason


def test_an_account_dated_before_the_plan_is_refused(cluster_store):
    """'Planned or later' on the account's own date: else its closure could never be met."""
    run(cluster_store, baseline("T1"), plan("T1", on="2009-09-10"))
    reason = refused(cluster_store, "T1", account("T1", on="2009-09-05"))
    assert "2009-09-05" in reason and "2009-09-10" in reason and "plan" in reason


def test_a_partner_account_dated_before_its_plan_is_refused(cluster_store):
    run(cluster_store, partner_plan("P1", on="2009-10-01"))
    reason = refused(cluster_store, "P1", account("P1", on="2009-09-20"))
    assert "2009-10-01" in reason


def test_an_account_on_the_day_of_the_plan_is_accepted(cluster_store):
    run(cluster_store, partner_plan("P1", on="2009-10-01"), account("P1", on="2009-10-01"))
    assert cluster_store.audit("P1")[-1]["command"] == "school.financial_account_submitted"


def test_a_second_account_after_closure_is_named_as_a_duplicate(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1"), close("T1"))
    reason = refused(cluster_store, "T1", account("T1", on="2010-08-05", amount="5300.00"))
    assert "already" in reason and "2010-07-10" in reason and "head@t1.test" in reason


# --- dcsf.account_closed (a school) -------------------------------------------------------------


def test_a_trial_school_at_final_submitted_with_its_account_is_closed(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1"), close("T1"))
    assert stage(cluster_store, "T1") == "account_closed"


def test_an_account_may_be_closed_on_the_day_it_is_submitted(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1"), close("T1", on="2010-07-10"))
    assert stage(cluster_store, "T1") == "account_closed"


def test_a_partner_school_at_planned_with_its_account_is_closed(cluster_store):
    run(cluster_store, partner_plan("P1"), account("P1"), close("P1"))
    assert stage(cluster_store, "P1") == "account_closed"


def test_closing_without_an_account_is_refused(cluster_store):
    run(cluster_store, *to_final("T1"))
    reason = refused(cluster_store, "T1", close("T1"))
    assert "financial account" in reason
    assert stage(cluster_store, "T1") == "final_submitted"


def test_closing_before_the_account_was_submitted_is_refused(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1", on="2010-07-20"))
    reason = refused(cluster_store, "T1", close("T1", on="2010-07-15"))
    assert "2010-07-15" in reason
    assert stage(cluster_store, "T1") == "final_submitted"


@pytest.mark.parametrize("steps", [2, 3], ids=["planned", "interim_submitted"])
def test_a_trial_school_before_final_submitted_cannot_be_closed(cluster_store, steps):
    run(cluster_store, *to_final("T1")[:steps], account("T1"))
    before = stage(cluster_store, "T1")
    reason = refused(cluster_store, "T1", close("T1"))
    assert "final_submitted" in reason
    assert stage(cluster_store, "T1") == before


def test_a_partner_school_at_nominated_cannot_be_closed(cluster_store):
    refused(cluster_store, "P1", close("P1"))
    assert stage(cluster_store, "P1") == "nominated"


def test_an_account_cannot_be_closed_twice(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1"), close("T1"))
    refused(cluster_store, "T1", close("T1", on="2010-08-10"))
    assert stage(cluster_store, "T1") == "account_closed"


# --- dcsf.account_closed (an LA) ----------------------------------------------------------------


def la_closed_on(store: Any, day: dt.date = END) -> dt.date | None:
    return store.queries.status("LA01", day)["account_closed_on"]


def test_an_la_with_its_account_submitted_is_closed(cluster_store):
    run(cluster_store, la_account(), close("LA01", on="2010-08-01"))
    assert la_closed_on(cluster_store) == dt.date(2010, 8, 1)
    assert la_closed_on(cluster_store, dt.date(2010, 7, 31)) is None


def test_an_la_without_an_account_cannot_be_closed(cluster_store):
    reason = refused(cluster_store, "LA01", close("LA01"))
    assert "LA01" in reason and "financial account" in reason
    assert la_closed_on(cluster_store) is None


def test_an_la_cannot_be_closed_before_its_account_was_submitted(cluster_store):
    run(cluster_store, la_account(on="2010-07-25"))
    refused(cluster_store, "LA01", close("LA01", on="2010-07-20"))
    assert la_closed_on(cluster_store) is None


# --- school.withdrawn ---------------------------------------------------------------------------

TRIAL_STAGES = {
    "nominated": [],
    "baselined": to_final("T1")[:1],
    "planned": to_final("T1")[:2],
    "interim_submitted": to_final("T1")[:3],
    "final_submitted": to_final("T1"),
}


@pytest.mark.parametrize("at", list(TRIAL_STAGES))
def test_a_trial_school_may_be_withdrawn_before_its_account_is_closed(cluster_store, at):
    run(cluster_store, *TRIAL_STAGES[at])
    assert stage(cluster_store, "T1") == at
    run(cluster_store, withdraw("T1"))
    assert stage(cluster_store, "T1") == "withdrawn"
    assert stage(cluster_store, "T1", dt.date(2010, 7, 31)) == at


def test_a_partner_school_at_planned_may_be_withdrawn(cluster_store):
    run(cluster_store, partner_plan("P1"), withdraw("P1"))
    assert stage(cluster_store, "P1") == "withdrawn"


def test_a_school_cannot_be_withdrawn_twice(cluster_store):
    run(cluster_store, withdraw("T1", on="2009-08-01"))
    reason = refused(cluster_store, "T1", withdraw("T1", on="2009-08-01"))
    assert "withdrawn" in reason
    assert stage(cluster_store, "T1") == "withdrawn"


def test_a_school_whose_account_is_closed_cannot_be_withdrawn(cluster_store):
    run(cluster_store, *to_final("T1"), account("T1"), close("T1"))
    reason = refused(cluster_store, "T1", withdraw("T1", on="2010-08-15"))
    assert "account_closed" in reason
    assert stage(cluster_store, "T1") == "account_closed"


def test_a_withdrawn_school_moves_no_further(cluster_store):
    run(cluster_store, baseline("T1"), withdraw("T1", on="2009-09-05"))
    refused(cluster_store, "T1", plan("T1", on="2009-09-05"))
    assert stage(cluster_store, "T1") == "withdrawn"
