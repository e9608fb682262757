"""Roles through the command line, on an SQLite file holding the sample programme.

A coordinator for LA01 reads and records only LA01; an auditor reads everything and writes
nothing; an officer records but grants no waivers; a revoked user is refused everything. Every
refusal exits 1 with one clear line naming the user and the role, no traceback, stores nothing,
and logs a `permission.refused` warning (JSON lines on stderr, as stderr is not a terminal).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from engine.bootstrap import open_store
from tests.conftest import ADMIN, DATA

COORDINATOR = "coordinator@la01.test"
AUDITOR = "auditor@extramile.test"
OFFICER = "officer@extramile.test"
MANAGER = "manager@extramile.test"
UNKNOWN = "stranger@extramile.test"
AS_OF = ["--as-of", "2010-02-15"]
LA01 = {"LA01", "T001", "T002", "T003", "T004", "P001", "R001"}


# --- helpers ------------------------------------------------------------------------------------


def extramile(db: Path, *args: str, user: str = ADMIN) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), "--as", user, *args])


def _record(line: str) -> dict[str, Any] | None:
    """The structlog record a stderr line holds, if it is one."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) else None


def log_records(result: Result) -> list[dict[str, Any]]:
    """The structlog JSON lines written to stderr."""
    return [r for r in map(_record, result.stderr.splitlines()) if r is not None]


def messages(result: Result) -> list[str]:
    """The stderr lines meant for a person (not log records)."""
    return [line for line in result.stderr.splitlines()
            if line.strip() and _record(line) is None]


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def ok(result: Result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def refused(result: Result, user: str, role: str | None = None) -> str:
    """A refusal: exit 1, no traceback, nothing on stdout, one line naming the user (and the
    role); that line."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    no_traceback(result)
    assert result.stdout == ""
    [line] = messages(result)
    assert user in line
    if role is not None:
        assert f"({role})" in line
    return line


def events(db: Path) -> int:
    """How many events the store holds."""
    with open_store(str(db)) as store:
        return store.app.recorder.max_notification_id() or 0


def overdue_rows(db: Path, *args: str, user: str = ADMIN) -> list[dict[str, Any]]:
    return json.loads(ok(extramile(db, "overdue", *AS_OF, "--format", "json", *args, user=user)))


def jsonl(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample programme imported by the admin, plus a coordinator for LA01, an auditor,
    an officer and a manager (built once, copied for each test)."""
    db = tmp_path_factory.mktemp("template") / "extramile.db"
    ok(extramile(db, "init", "--admin", ADMIN))
    ok(extramile(db, "import", str(DATA / "sample-programme.jsonl")))
    ok(extramile(db, "users", "add", COORDINATOR, "--role", "coordinator", "--la", "LA01"))
    for email, role in ((AUDITOR, "auditor"), (OFFICER, "officer"), (MANAGER, "manager")):
        ok(extramile(db, "users", "add", email, "--role", role))
    return db


@pytest.fixture
def db(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EXTRAMILE_MAIL_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("EXTRAMILE_SMTP_HOST", raising=False)
    for file in template.parent.iterdir():
        shutil.copy(file, tmp_path / file.name)
    return tmp_path / template.name


# --- a coordinator reads only its LA ------------------------------------------------------------


def test_a_coordinators_overdue_list_holds_only_its_own_las_rows(db):
    rows = overdue_rows(db, user=COORDINATOR)
    assert rows and {r["la"] for r in rows} == {"LA01"}
    assert {r["subject"] for r in rows} <= LA01
    assert rows == overdue_rows(db, "--la", "LA01")


def test_a_coordinator_may_name_its_own_la_in_overdue(db):
    assert overdue_rows(db, "--la", "LA01", user=COORDINATOR) == overdue_rows(db, "--la", "LA01")


def test_a_coordinator_asking_for_another_las_overdue_list_is_refused(db):
    line = refused(extramile(db, "overdue", *AS_OF, "--la", "LA02", user=COORDINATOR),
                   COORDINATOR, "coordinator")
    assert "LA02" in line


def test_a_coordinators_board_shows_only_its_own_la_without_the_programme_row(db):
    board = json.loads(ok(extramile(db, "board", *AS_OF, "--format", "json", user=COORDINATOR)))
    assert board["programme"] is None
    assert [la["subject"] for la in board["las"]] == ["LA01"]
    assert {s["subject"] for s in board["las"][0]["schools"]} == LA01 - {"LA01"}
    cells = [mark for entry in (board["las"][0], *board["las"][0]["schools"])
             for mark in entry["obligations"].values() if mark]
    assert sum(board["counts"].values()) == len(cells)


@pytest.mark.parametrize("fmt", ["table", "csv"])
def test_a_coordinators_board_in_other_formats_names_no_other_la(db, fmt):
    out = ok(extramile(db, "board", *AS_OF, "--format", fmt, user=COORDINATOR))
    assert "T001" in out
    assert "LA02" not in out and "T005" not in out


@pytest.mark.parametrize("args", [
    ["status", "T001", *AS_OF],
    ["status", "LA01", *AS_OF],
    ["audit", "T001"],
], ids=" ".join)
def test_a_coordinator_reads_about_its_own_la(db, args):
    ok(extramile(db, *args, user=COORDINATOR))


@pytest.mark.parametrize("args", [
    ["status", "T005", *AS_OF],
    ["status", "LA02", *AS_OF],
    ["status", "dcsf", *AS_OF],
    ["audit", "T005"],
    ["audit", "dcsf"],
    ["reminders"],
    ["users", "list"],
], ids=" ".join)
def test_a_coordinator_is_refused_reads_outside_its_la(db, args):
    refused(extramile(db, *args, user=COORDINATOR), COORDINATOR, "coordinator")


# --- a coordinator records only its own LA's commands ------------------------------------------


def funding_statement(la: str) -> list[str]:
    return ["record", "la.funding_statement_submitted", "--on", "2010-02-16", "--by",
            COORDINATOR, "--la", la, "--lines", '[{"item": "cover", "amount": "3000.00"}]']


def networking(la: str) -> list[str]:
    return ["record", "la.networking_event_held", "--on", "2010-06-20", "--by", COORDINATOR,
            "--la", la, "--round", "3"]


def test_a_coordinator_records_its_own_las_overdue_funding_statement(db):
    ok(extramile(db, *funding_statement("LA01"), user=COORDINATOR))
    later = overdue_rows(db, "--as-of", "2010-03-01", user=COORDINATOR)
    assert ("la.funding_statement", "LA01") not in {(r["obligation"], r["subject"])
                                                    for r in later}


def test_a_coordinator_is_refused_another_las_command_and_nothing_is_stored(db):
    before = events(db)
    line = refused(extramile(db, *networking("LA02"), user=COORDINATOR),
                   COORDINATOR, "coordinator")
    assert "la.networking_event_held" in line and "LA02" in line
    assert events(db) == before
    ok(extramile(db, *networking("LA02")))  # valid: only the role refused it


def test_a_coordinator_is_refused_a_school_command_of_its_own_la(db):
    before = events(db)
    refused(extramile(db, "record", "school.lead_appointed", "--on", "2010-02-16", "--by",
                      COORDINATOR, "--school", "T003", "--name", "A Head", "--email",
                      "lead@t003.test", user=COORDINATOR), COORDINATOR, "coordinator")
    assert events(db) == before


# --- an auditor reads everything and writes nothing ---------------------------------------------


@pytest.mark.parametrize("args", [
    ["overdue", *AS_OF],
    ["board", *AS_OF],
    ["status", "T005", *AS_OF],
    ["status", "dcsf", *AS_OF],
    ["audit", "T005"],
    ["audit", "dcsf"],
    ["users", "list"],
    ["reminders"],
    ["remind", *AS_OF, "--dry-run"],
    ["simulate", "--from", "2010-02-01", "--to", "2010-02-15", "--dry-run"],
], ids=" ".join)
def test_an_auditor_reads_everything(db, args):
    ok(extramile(db, *args, user=AUDITOR))


def test_an_auditors_dry_run_of_remind_lists_reminders_and_records_nothing(db, tmp_path):
    before = events(db)
    planned = json.loads(ok(extramile(db, "remind", *AS_OF, "--dry-run", "--format", "json",
                                      user=AUDITOR)))
    assert planned
    assert events(db) == before
    assert not (tmp_path / "outbox").exists()


def lead_appointed(school: str = "T003") -> list[str]:
    return ["record", "school.lead_appointed", "--on", "2010-02-16", "--by",
            f"head@{school.lower()}.test", "--school", school, "--name", "A Head", "--email",
            f"lead@{school.lower()}.test"]


WRITES = {
    "record": lead_appointed(),
    "remind": ["remind", *AS_OF],
    "simulate": ["simulate", "--from", "2010-02-01", "--to", "2010-02-15"],
    "deliver": ["deliver"],
    "scheduler run": ["scheduler", "run", "--once"],
    "projections rebuild": ["projections", "rebuild"],
    "users add": ["users", "add", "new@extramile.test", "--role", "admin"],
    "users revoke": ["users", "revoke", OFFICER],
    "db upgrade": ["db", "upgrade"],
}


@pytest.mark.parametrize("write", list(WRITES))
def test_an_auditor_is_refused_every_write_and_nothing_is_stored(db, write, tmp_path):
    before = events(db)
    refused(extramile(db, *WRITES[write], user=AUDITOR), AUDITOR, "auditor")
    assert events(db) == before
    assert not (tmp_path / "outbox").exists()


def test_an_auditor_is_refused_an_import_line_by_line_and_nothing_is_stored(db, tmp_path):
    before = events(db)
    result = extramile(db, "import", str(DATA / "sample-programme.jsonl"), user=AUDITOR)
    assert result.exit_code == 1
    no_traceback(result)
    assert "line 1:" in result.stderr and f"{AUDITOR} (auditor)" in result.stderr
    assert events(db) == before


def test_an_auditor_is_refused_a_copy_of_the_store(db, tmp_path):
    target = tmp_path / "copy.db"
    refused(extramile(db, "db", "copy", "--to", str(target), user=AUDITOR), AUDITOR, "auditor")
    assert not target.exists()


# --- officers and managers ----------------------------------------------------------------------


def waiver_import(tmp_path: Path) -> Path:
    return jsonl(tmp_path / "waiver.jsonl", [
        {"cmd": "school.lead_appointed", "on": "2010-02-16", "by": "head@t003.test",
         "school": "T003", "name": "A Head", "email": "lead@t003.test"},
        {"cmd": "dcsf.obligation_waived", "on": "2010-02-16", "by": "office@dcsf.test",
         "obligation": "la.visit.plan_support", "subject": "T004", "reason": "agreed"},
    ])


def test_an_officers_import_with_one_waiver_stores_nothing_and_names_that_line(db, tmp_path):
    before, overdue_before = events(db), overdue_rows(db)
    result = extramile(db, "import", str(waiver_import(tmp_path)), user=OFFICER)
    assert result.exit_code == 1
    no_traceback(result)
    rejected = [m for m in messages(result) if "line " in m and "may not" in m]
    assert len(rejected) == 1
    assert "line 2:" in rejected[0] and "dcsf.obligation_waived" in rejected[0]
    assert f"{OFFICER} (officer)" in rejected[0]
    assert events(db) == before and overdue_rows(db) == overdue_before


def test_a_managers_import_of_the_same_file_is_stored(db, tmp_path):
    before = events(db)
    ok(extramile(db, "import", str(waiver_import(tmp_path)), user=MANAGER))
    assert events(db) > before


def test_an_officer_issues_and_delivers_reminders(db, tmp_path):
    assert json.loads(ok(extramile(db, "remind", *AS_OF, "--format", "json", user=OFFICER)))
    ok(extramile(db, "deliver", user=OFFICER))
    assert list((tmp_path / "outbox").glob("*.eml"))


USER_OF = {"officer": OFFICER, "manager": MANAGER, "coordinator": COORDINATOR}


@pytest.mark.parametrize(("role", "args"), [
    ("officer", ["projections", "rebuild"]),
    ("officer", ["users", "list"]),
    ("officer", ["users", "add", "new@extramile.test", "--role", "officer"]),
    ("manager", ["users", "add", "new@extramile.test", "--role", "officer"]),
    ("manager", ["users", "revoke", OFFICER]),
    ("manager", ["db", "upgrade"]),
    ("coordinator", ["remind", *AS_OF]),
    ("coordinator", ["deliver"]),
    ("coordinator", ["projections", "rebuild"]),
], ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_a_role_is_refused_what_only_others_may_do(db, role, args):
    before = events(db)
    refused(extramile(db, *args, user=USER_OF[role]), USER_OF[role], role)
    assert events(db) == before


def test_a_manager_is_refused_a_copy_of_the_store(db, tmp_path):
    target = tmp_path / "copy.db"
    refused(extramile(db, "db", "copy", "--to", str(target), user=MANAGER), MANAGER, "manager")
    assert not target.exists()


@pytest.mark.parametrize("args", [["projections", "rebuild"], ["users", "list"]], ids=" ".join)
def test_a_manager_rebuilds_projections_and_lists_users(db, args):
    ok(extramile(db, *args, user=MANAGER))


def test_an_admin_upgrades_and_copies_the_store(db, tmp_path):
    ok(extramile(db, "db", "upgrade"))
    ok(extramile(db, "db", "copy", "--to", str(tmp_path / "copy.db")))


# --- unknown and revoked users ------------------------------------------------------------------


READS = [["overdue", *AS_OF], ["board", *AS_OF], ["status", "T001", *AS_OF], ["audit", "T001"],
         ["reminders"], ["remind", *AS_OF, "--dry-run"], ["users", "list"]]


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_a_revoked_user_is_refused_reads(db, args):
    ok(extramile(db, "users", "revoke", AUDITOR))
    refused(extramile(db, *args, user=AUDITOR), AUDITOR)


@pytest.mark.parametrize("args", READS, ids=" ".join)
def test_an_unknown_user_is_refused_reads(db, args):
    refused(extramile(db, *args, user=UNKNOWN), UNKNOWN)


def test_a_revoked_officer_is_refused_writes_and_nothing_is_stored(db):
    ok(extramile(db, "users", "revoke", OFFICER))
    before = events(db)
    refused(extramile(db, *lead_appointed(), user=OFFICER), OFFICER)
    assert events(db) == before


def test_users_list_shows_the_revocation(db):
    ok(extramile(db, "users", "revoke", OFFICER))
    users = json.loads(ok(extramile(db, "users", "list", "--format", "json", user=AUDITOR)))
    assert {u["email"]: bool(u["revoked"]) for u in users}[OFFICER] is True


# --- every refusal is logged --------------------------------------------------------------------


@pytest.mark.parametrize(("user", "args", "names"), [
    (AUDITOR, lead_appointed(), "school.lead_appointed"),
    (COORDINATOR, networking("LA02"), "la.networking_event_held"),
    (COORDINATOR, ["status", "T005", *AS_OF], "status"),
    (COORDINATOR, ["audit", "T005"], "audit"),
    (COORDINATOR, ["overdue", *AS_OF, "--la", "LA02"], "overdue"),
    (COORDINATOR, ["board", *AS_OF, "--format", "json"], None),
    (AUDITOR, ["remind", *AS_OF], "remind"),
    (OFFICER, ["projections", "rebuild"], "rebuild"),
    (MANAGER, ["users", "add", "new@extramile.test", "--role", "admin"], "users"),
    (UNKNOWN, ["overdue", *AS_OF], "overdue"),
    (UNKNOWN, lead_appointed(), "record"),
], ids=["record", "record for another LA", "status", "audit", "overdue", "board (allowed)",
        "remind", "projections rebuild", "users add", "unknown user reading",
        "unknown user recording"])
def test_a_refusal_logs_a_warning_naming_the_user_and_the_command(db, user, args, names):
    result = extramile(db, *args, user=user)
    warnings = [r for r in log_records(result) if r.get("event") == "permission.refused"]
    if names is None:  # an allowed read logs no refusal
        assert result.exit_code == 0 and warnings == []
        return
    assert result.exit_code == 1
    assert len(warnings) == 1, result.stderr
    [warning] = warnings
    assert warning["level"] == "warning"
    assert warning.get("user") == user
    assert any(names in str(value) for value in warning.values()), warning


def test_a_revoked_user_is_refused_with_a_logged_warning(db):
    ok(extramile(db, "users", "revoke", OFFICER))
    result = extramile(db, *lead_appointed(), user=OFFICER)
    warnings = [r for r in log_records(result) if r.get("event") == "permission.refused"]
    assert result.exit_code == 1 and len(warnings) == 1, result.stderr
    assert warnings[0]["user"] == OFFICER and warnings[0]["command"] == "record"
