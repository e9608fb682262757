"""Who may record what: each of the five roles against each family of commands.

admin and manager record anything; an officer records submissions and facts but no extension,
waiver or account closure; an auditor records nothing; a coordinator records only LA commands
for its own LA. Only an admin manages users; unknown and revoked users are refused. A refused
line names the user and the role, and a batch holding one stores nothing.

Every command below is valid when an admin records it (the preconditions are set up), so only
the role decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from engine.application import BatchRejected
from engine.errors import Rejected
from engine.permissions import Forbidden
from tests.builders import account, baseline, cluster, cmd, to_final
from tests.conftest import ADMIN, run

ROLES = ["admin", "manager", "officer", "auditor", "coordinator"]
RECORDERS = {"admin", "manager", "officer"}
OFFICE = {"admin", "manager"}

USERS = {
    "admin": "second.admin@extramile.test",
    "manager": "manager@extramile.test",
    "officer": "officer@extramile.test",
    "auditor": "auditor@extramile.test",
    "coordinator": "coordinator@la01.test",
}
UNKNOWN = "stranger@extramile.test"
DAY = dt.date(2010, 2, 15)


# --- commands, one per family -------------------------------------------------------------------


def form(la: str) -> dict[str, Any]:
    return cmd("la.nomination_form_returned", "2009-06-10", by=f"extramile@{la.lower()}.test",
               la=la)


def visit(school: str, la: str) -> dict[str, Any]:
    return cmd("la.visit_recorded", "2009-09-20", by=f"extramile@{la.lower()}.test",
               school=school, la=la, purpose="plan_support")


def newsletter() -> dict[str, Any]:
    return cmd("dcsf.newsletter_sent", "2009-09-20", term="autumn")


def extension() -> dict[str, Any]:
    return cmd("dcsf.extension_granted", "2009-09-25", obligation="school.baseline",
               subject="T2", due="2009-10-31")


def waiver() -> dict[str, Any]:
    return cmd("dcsf.obligation_waived", "2009-10-05", obligation="school.baseline",
               subject="T3", reason="agreed with the LA")


def retraction() -> dict[str, Any]:
    return cmd("dcsf.submission_retracted", "2009-06-01", subject="dcsf",
               obligation="dcsf.invitations", reason="the letters were never posted")


def closure() -> dict[str, Any]:
    return cmd("dcsf.account_closed", "2010-07-31", subject="T1")


# family -> (its command, the subject whose events it adds to, the roles allowed it)
FAMILIES: dict[str, tuple[Callable[[], dict[str, Any]], str, set[str]]] = {
    "school submission": (lambda: baseline("T4"), "T4", RECORDERS),
    "LA command for the coordinator's LA": (lambda: form("LA01"), "LA01",
                                            RECORDERS | {"coordinator"}),
    "LA command for another LA": (lambda: form("LA02"), "LA02", RECORDERS),
    "DCSF fact": (newsletter, "dcsf", RECORDERS),
    "extension": (extension, "T2", OFFICE),
    "waiver": (waiver, "T3", OFFICE),
    "account closure": (closure, "T1", OFFICE),
    "retraction": (retraction, "dcsf", OFFICE),
}

ALLOWED = [(role, family) for family, (_, _, roles) in FAMILIES.items() for role in ROLES
           if role in roles]
REFUSED = [(role, family) for family, (_, _, roles) in FAMILIES.items() for role in ROLES
           if role not in roles]


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def programme(store: Any) -> Any:
    """Two LAs with their schools (LA01: T1-T4, P1; LA02: BT1-BT4, BP1), T1 ready to be
    closed, and a user of every role (the coordinator's LA is LA01)."""
    run(store, cmd("dcsf.invitations_sent", "2009-05-07"), *cluster("LA01"),
        *cluster("LA02", prefix="B"), *to_final("T1"), account("T1"))
    for role, email in USERS.items():
        store.add_user(email, role, "LA01" if role == "coordinator" else None, ADMIN)
    return store


def events(store: Any, subject: str) -> int:
    return len(store.audit(subject))


def refused_line(store: Any, user: str, command: dict[str, Any], subject: str) -> str:
    """Record a command that the user's role must refuse: one rejected line, nothing stored
    about `subject`; the reason."""
    before = events(store, subject)
    with pytest.raises(BatchRejected) as rejected:
        run(store, command, user=user)
    [error] = rejected.value.errors
    assert (error.line, error.command) == (1, command["cmd"])
    assert events(store, subject) == before
    return error.reason


# --- recording, role by role --------------------------------------------------------------------


@pytest.mark.parametrize(("role", "family"), ALLOWED)
def test_a_role_records_the_commands_it_is_allowed(programme, role, family):
    command, subject, _ = FAMILIES[family]
    before = events(programme, subject)
    assert run(programme, command(), user=USERS[role]) == 1
    assert events(programme, subject) == before + 1
    assert programme.audit(subject)[-1]["recorded_by"] == USERS[role]


@pytest.mark.parametrize(("role", "family"), REFUSED)
def test_a_role_is_refused_the_commands_it_is_not_allowed(programme, role, family):
    command, subject, _ = FAMILIES[family]
    overdue_before = programme.queries.overdue(DAY)
    reason = refused_line(programme, USERS[role], command(), subject)
    assert USERS[role] in reason and f"({role})" in reason
    assert f"may not record {command()['cmd']}" in reason
    assert programme.queries.overdue(DAY) == overdue_before


def test_the_commands_are_valid_for_an_admin_so_only_the_role_decides(programme):
    assert run(programme, *(command() for command, _, _ in FAMILIES.values())) == len(FAMILIES)


# --- a coordinator's own LA ---------------------------------------------------------------------


def test_a_coordinator_records_a_visit_to_a_school_of_its_own_la(programme):
    run(programme, visit("T2", "LA01"), user=USERS["coordinator"])
    assert programme.audit("T2")[-1]["command"] == "la.visit_recorded"


def test_a_coordinator_is_refused_a_visit_for_another_la_naming_the_school(programme):
    reason = refused_line(programme, USERS["coordinator"], visit("BT2", "LA02"), "BT2")
    assert "BT2" in reason and "(coordinator)" in reason


@pytest.mark.parametrize("command", [
    cmd("school.lead_appointed", "2009-07-01", by="head@t2.test", school="T2", name="A Head",
        email="lead@t2.test"),
    cmd("dcsf.participation_confirmed", "2009-06-15", la="LA01"),
    cmd("dcsf.plan_feedback_given", "2009-09-20", school="T1"),
], ids=["school command of its own LA", "DCSF command about its own LA",
        "DCSF command about a school of its own LA"])
def test_a_coordinator_is_refused_school_and_dcsf_commands_even_about_its_own_la(programme,
                                                                                  command):
    subject = command.get("school") or command["la"]
    reason = refused_line(programme, USERS["coordinator"], command, subject)
    assert USERS["coordinator"] in reason and "(coordinator)" in reason


# --- batches and imports ------------------------------------------------------------------------


def test_one_refused_line_in_an_officers_batch_stores_nothing_and_is_named(programme):
    batch = [baseline("T4"), waiver(), newsletter()]
    before = {s: events(programme, s) for s in ("T4", "T3", "dcsf")}
    with pytest.raises(BatchRejected) as rejected:
        run(programme, *batch, user=USERS["officer"])
    assert [(e.line, e.command) for e in rejected.value.errors] == [
        (2, "dcsf.obligation_waived")]
    assert "officer" in rejected.value.errors[0].reason
    assert {s: events(programme, s) for s in before} == before


def test_the_same_batch_is_stored_whole_for_a_manager(programme):
    assert run(programme, baseline("T4"), waiver(), newsletter(), user=USERS["manager"]) == 3


def test_a_coordinators_batch_with_one_line_for_another_la_stores_nothing(programme):
    before = events(programme, "LA01")
    with pytest.raises(BatchRejected) as rejected:
        run(programme, form("LA01"), form("LA02"), user=USERS["coordinator"])
    assert [e.line for e in rejected.value.errors] == [2]
    assert events(programme, "LA01") == before


# --- unknown and revoked users ------------------------------------------------------------------


def test_an_unknown_user_is_refused_and_nothing_is_stored(programme):
    before = events(programme, "T4")
    with pytest.raises(Rejected) as refused:
        run(programme, baseline("T4"), user=UNKNOWN)
    assert UNKNOWN in str(refused.value)
    assert events(programme, "T4") == before


@pytest.mark.parametrize("role", ROLES)
def test_a_revoked_user_is_refused_whatever_its_role(programme, role):
    programme.revoke_user(USERS[role], ADMIN)
    before = events(programme, "LA01")
    with pytest.raises(Rejected) as refused:
        run(programme, form("LA01"), user=USERS[role])
    assert USERS[role] in str(refused.value)
    assert events(programme, "LA01") == before


def test_a_revoked_user_may_not_preview_reminders(programme):
    programme.revoke_user(USERS["auditor"], ADMIN)
    with pytest.raises(Rejected):
        programme.remind(DAY, USERS["auditor"], dry_run=True)


def test_user_emails_are_matched_whatever_their_case(programme):
    assert run(programme, baseline("T4"), user=USERS["officer"].upper()) == 1


# --- users: only an admin adds and revokes ------------------------------------------------------


def test_an_admin_adds_a_user_who_may_then_record(programme):
    programme.add_user("new.officer@extramile.test", "officer", None, USERS["admin"])
    assert run(programme, baseline("T4"), user="new.officer@extramile.test") == 1


@pytest.mark.parametrize("role", ["manager", "officer", "auditor", "coordinator"])
def test_only_an_admin_may_add_a_user(programme, role):
    with pytest.raises(Forbidden) as refused:
        programme.add_user("new.admin@extramile.test", "admin", None, USERS[role])
    assert USERS[role] in str(refused.value) and f"({role})" in str(refused.value)
    assert programme.app.user("new.admin@extramile.test") is None


@pytest.mark.parametrize("role", ["manager", "officer", "auditor", "coordinator"])
def test_only_an_admin_may_revoke_a_user(programme, role):
    with pytest.raises(Forbidden) as refused:
        programme.revoke_user(USERS["officer"], USERS[role])
    assert USERS[role] in str(refused.value) and f"({role})" in str(refused.value)
    assert run(programme, baseline("T4"), user=USERS["officer"]) == 1


def test_a_revoked_admin_may_no_longer_add_users(programme):
    programme.revoke_user(USERS["admin"], ADMIN)
    with pytest.raises(Rejected):
        programme.add_user("new@extramile.test", "officer", None, USERS["admin"])
    assert programme.app.user("new@extramile.test") is None


def test_an_unknown_user_may_not_add_users(programme):
    with pytest.raises(Rejected):
        programme.add_user("new@extramile.test", "admin", None, UNKNOWN)
    assert programme.app.user("new@extramile.test") is None


def test_a_coordinator_cannot_be_added_without_an_la(programme):
    with pytest.raises(Rejected):
        programme.add_user("lost@la01.test", "coordinator", None, ADMIN)
    assert programme.app.user("lost@la01.test") is None


# --- reminders ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "manager", "officer"])
def test_a_recorder_issues_reminders(programme, role):
    assert programme.remind(DAY, USERS[role])
    assert programme.issued_keys()


@pytest.mark.parametrize("role", ["auditor", "coordinator"])
def test_an_auditor_or_coordinator_may_not_issue_reminders(programme, role):
    with pytest.raises(Forbidden) as refused:
        programme.remind(DAY, USERS[role])
    assert USERS[role] in str(refused.value)
    assert programme.issued_keys() == set()


def test_an_auditor_previews_reminders_and_nothing_is_recorded(programme):
    assert programme.remind(DAY, USERS["auditor"], dry_run=True)
    assert programme.issued_keys() == set()


def test_a_coordinators_reminder_preview_covers_its_own_la_only_or_is_refused(programme):
    """A coordinator reads only its LA, and a preview of reminders is a read."""
    la_of = {s: programme.queries.subject(s)["la"] for s in
             {p.subject for p in programme.remind(DAY, ADMIN, dry_run=True)}}
    try:
        preview = programme.remind(DAY, USERS["coordinator"], dry_run=True)
    except Forbidden:
        return
    assert {la_of[p.subject] for p in preview} <= {"LA01"}
