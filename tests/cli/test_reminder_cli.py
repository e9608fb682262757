"""remind, simulate, deliver and reminders through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.conftest import ADMIN, DATA

KEYS = ["date", "obligation", "subject", "kind", "scheduled_for", "due"]


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("EXTRAMILE_MAIL_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("EXTRAMILE_SMTP_HOST", raising=False)
    db = str(tmp_path / "store.db")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--db", db, "--as", ADMIN, *args])

    assert run("init", "--admin", ADMIN).exit_code == 0
    assert run("import", str(DATA / "sample-programme.jsonl")).exit_code == 0
    return run


def test_simulate_prints_the_expected_year_of_reminders_then_nothing(invoke) -> None:
    result = invoke("simulate", "--from", "2009-05-01", "--to", "2010-09-30", "--format", "json")
    assert result.exit_code == 0, result.stderr
    issued = json.loads(result.stdout)
    expected = json.loads((DATA / "sample-expected-reminders.json").read_text())
    assert [{k: r[k] for k in KEYS} for r in issued] == expected
    assert all(isinstance(r["to"], list) and isinstance(r["cc"], list) for r in issued)
    again = invoke("simulate", "--from", "2009-05-01", "--to", "2010-09-30", "--format", "json")
    assert json.loads(again.stdout) == []


def test_a_dry_run_of_remind_records_and_sends_nothing(invoke, tmp_path: Path) -> None:
    dry = invoke("remind", "--as-of", "2010-02-15", "--dry-run", "--format", "json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)
    assert not (tmp_path / "outbox").exists()
    assert json.loads(invoke("reminders", "--format", "json").stdout) == []


def test_remind_writes_one_eml_file_per_reminder_once(invoke, tmp_path: Path) -> None:
    issued = json.loads(invoke("remind", "--as-of", "2010-02-15", "--format", "json").stdout)
    files = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == len(issued) > 0
    assert json.loads(invoke("remind", "--as-of", "2010-02-15", "--format", "json").stdout) == []
    assert sorted((tmp_path / "outbox").glob("*.eml")) == files
    delivered = json.loads(invoke("reminders", "--delivered", "--format", "json").stdout)
    assert len(delivered) == len(issued)
    assert json.loads(invoke("reminders", "--pending", "--format", "json").stdout) == []


def test_simulate_with_deliver_sends_what_it_issues(invoke, tmp_path: Path) -> None:
    result = invoke("simulate", "--from", "2009-06-01", "--to", "2009-06-30", "--deliver",
                    "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == len(json.loads(result.stdout)) > 0


def test_simulate_records_nothing_for_days_still_to_come_but_forecasts_them(invoke) -> None:
    """A reminder recorded ahead of its day would count as issued and never go out."""
    import datetime as dt

    soon = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    before = invoke("reminders", "--format", "json")
    refused = invoke("simulate", "--from", "2010-02-01", "--to", soon)
    assert refused.exit_code == 1
    assert "--dry-run" in refused.stderr and "Traceback" not in refused.stderr
    assert invoke("reminders", "--format", "json").stdout == before.stdout
    forecast = invoke("simulate", "--from", "2010-02-01", "--to", soon, "--dry-run",
                      "--format", "json")
    assert forecast.exit_code == 0, forecast.stderr
    assert json.loads(forecast.stdout)
    assert invoke("reminders", "--format", "json").stdout == before.stdout

