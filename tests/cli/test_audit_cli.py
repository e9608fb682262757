"""audit verify, audit seal and --known-at through the command line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from tests.conftest import ADMIN, DATA


def extramile(db: str, *args: str, stdin: str | None = None):
    return CliRunner().invoke(cli, ["--db", db, "--as", ADMIN, *args], input=stdin)


def sample(tmp_path: Path) -> str:
    db = str(tmp_path / "store.db")
    assert extramile(db, "init", "--admin", ADMIN).exit_code == 0
    assert extramile(db, "import", str(DATA / "sample-programme.jsonl")).exit_code == 0
    return db


def test_verify_passes_on_an_untouched_store_and_names_a_deleted_event(tmp_path: Path) -> None:
    db = sample(tmp_path)
    ok = extramile(db, "audit", "verify")
    assert ok.exit_code == 0 and "intact" in ok.stdout
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM extramile_events WHERE id = 20")
    broken = extramile(db, "audit", "verify")
    assert broken.exit_code == 1
    assert "event 20: deleted" in broken.stderr and "version" in broken.stderr
    assert "Traceback" not in broken.output


def test_a_seal_confirms_nothing_up_to_it_changed(tmp_path: Path) -> None:
    db = sample(tmp_path)
    seal = extramile(db, "audit", "seal")
    assert seal.exit_code == 0
    assert set(json.loads(seal.stdout)) == {"head", "events", "sealed_at"}
    later = ["record", "school.lead_appointed", "--on", "2010-05-10", "--by", "h@t1.test",
             "--school", "T001", "--name", "Next", "--email", "next@t001.test"]
    assert extramile(db, *later).exit_code == 0
    checked = extramile(db, "audit", "verify", "--against", "-", stdin=seal.stdout)
    assert checked.exit_code == 0, checked.stderr
    with sqlite3.connect(db) as conn:  # rewrite history and the chain consistently
        conn.execute("DELETE FROM em_chain")
    from engine import chain
    from engine.bootstrap import open_store

    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE extramile_events SET state = CAST(replace(CAST(state AS TEXT), "
                      "'Greenway', 'Redway') AS BLOB)")
    with open_store(db) as store:
        chain.rebuild(store.engine, store.app.events_table)
    assert extramile(db, "audit", "verify").exit_code == 0  # consistent forgery...
    caught = extramile(db, "audit", "verify", "--against", "-", stdin=seal.stdout)
    assert caught.exit_code == 1 and "changed" in caught.stderr  # ...but not past the seal


def test_known_at_answers_as_the_office_knew_then(tmp_path: Path) -> None:
    db = sample(tmp_path)
    before = json.loads(extramile(db, "audit", "seal").stdout)["sealed_at"]
    late = ["record", "school.lead_appointed", "--on", "2009-10-01", "--by", "h@t3.test",
            "--school", "T003", "--name", "Late", "--email", "late@t003.test"]
    assert extramile(db, *late).exit_code == 0
    query = ["overdue", "--as-of", "2009-10-15", "--format", "json"]
    now = json.loads(extramile(db, *query).stdout)
    then = json.loads(extramile(db, *query, "--known-at", before).stdout)
    assert len(then) == len(now) + 1
    assert {"obligation": "school.lead", "subject": "T003"}.items() <= next(
        o for o in then if o["subject"] == "T003" and o["obligation"] == "school.lead").items()
    bad = extramile(db, *query, "--known-at", "yesterday")
    assert bad.exit_code == 2 and "ISO 8601" in bad.stderr
