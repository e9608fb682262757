"""Reminder emails delivered to a real SMTP server on loopback, exactly once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from engine.bootstrap import Store, open_store
from tests.conftest import ADMIN
from tests.integration.conftest import SmtpServer

DAY = dt.date(2010, 2, 15)


def test_each_reminder_arrives_once_with_its_recipients_subject_and_message_id(
        sample_store: Store, smtp: SmtpServer) -> None:
    issued = sample_store.remind(DAY, ADMIN)
    report = sample_store.outbox(smtp.env()).deliver()

    assert report.sent == len(issued) > 0
    ledger = {r["message_id"]: r for r in sample_store.queries.reminders()}
    for message in smtp.messages:
        row = ledger[message["Message-ID"]]
        assert message["To"] == ", ".join(row["to"])
        assert (message["Cc"] or "") == ", ".join(row["cc"])
        assert message["Subject"] == row["mail_subject"]
        assert message["From"] == "extramile@dcsf.test"
    assert sorted(m["Message-ID"] for m in smtp.messages) == sorted(ledger)


def test_an_escalation_is_copied_to_the_office_and_names_the_deliverable(
        sample_store: Store, smtp: SmtpServer) -> None:
    sample_store.remind(DAY, ADMIN)
    sample_store.outbox(smtp.env()).deliver()
    escalation = next(m for m in smtp.messages
                      if m["X-Extramile-Reminder"] == "school.case_study.interim|T007|escalation|"
                                                      "2010-02-15")
    assert escalation["To"] == "lead@t007.school.test"
    assert "office@extramile.dcsf.test" in escalation["Cc"]
    assert "coordinator@la02.gov.test" in escalation["Cc"]
    body = escalation.get_payload(decode=True).decode()
    assert "15 days overdue" in body and "Annex 4" in body
    assert "Submit the interim case study" in escalation["Subject"]


def test_a_second_run_sends_nothing(sample_store: Store, smtp: SmtpServer) -> None:
    sample_store.remind(DAY, ADMIN)
    sample_store.outbox(smtp.env()).deliver()
    sent = len(smtp.messages)
    assert sample_store.remind(DAY, ADMIN) == []
    assert sample_store.outbox(smtp.env()).deliver(ignore_backoff=True).sent == 0
    assert len(smtp.messages) == sent


def test_with_the_server_down_reminders_stay_pending_and_go_out_once_when_it_is_back(
        sample_store: Store, smtp: SmtpServer) -> None:
    smtp.stop()
    issued = sample_store.remind(DAY, ADMIN)
    down = sample_store.outbox(smtp.env()).deliver()
    assert down.failed == len(issued) and down.sent == 0
    failed = sample_store.queries.reminders(["failed"])
    assert len(failed) == len(issued) and all(r["last_error"] for r in failed)
    # Within the backoff nothing is retried; `deliver` (ignore_backoff) tries at once.
    assert sample_store.outbox(smtp.env()).deliver().sent == 0
    smtp.start()
    back = sample_store.outbox(smtp.env()).deliver(ignore_backoff=True)
    assert back.sent == len(issued)
    assert sample_store.outbox(smtp.env()).deliver(ignore_backoff=True).sent == 0
    assert len({m["Message-ID"] for m in smtp.messages}) == len(smtp.messages) == len(issued)


def test_simulated_reminders_are_held_not_sent(sample_store: Store, smtp: SmtpServer) -> None:
    sample_store.simulate(dt.date(2009, 6, 1), dt.date(2009, 7, 31), ADMIN)
    assert sample_store.outbox(smtp.env()).deliver(ignore_backoff=True).sent == 0
    assert smtp.messages == []
    assert {r["status"] for r in sample_store.queries.reminders()} == {"held"}


def test_a_process_killed_between_issuing_and_delivering_delivers_each_once_after_restart(
        sample_store: Store, smtp: SmtpServer, tmp_path: Path) -> None:
    url = sample_store.url
    sample_store.close()
    script = textwrap.dedent(f"""
        import datetime as dt, os, signal
        from engine.bootstrap import open_store
        store = open_store({url!r})
        store.remind(dt.date(2010, 2, 15), {ADMIN!r})
        os.kill(os.getpid(), signal.SIGKILL)  # dies before delivering anything
    """)
    killed = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2],
                            env={**os.environ, **smtp.env()}, timeout=60)
    assert killed.returncode == -9
    assert smtp.messages == []
    with open_store(url) as store:
        pending = store.queries.reminders(["pending"])
        assert pending
        store.outbox(smtp.env()).deliver()
        store.outbox(smtp.env()).deliver(ignore_backoff=True)
        assert len(smtp.messages) == len(pending)
        assert len({m["Message-ID"] for m in smtp.messages}) == len(pending)
