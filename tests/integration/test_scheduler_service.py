"""The scheduler service as a real process: starts, catches up, delivers, stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.bootstrap import Store, open_store
from tests.conftest import ADMIN
from tests.integration.conftest import SmtpServer

ROOT = Path(__file__).parents[2]


def start(url: str, smtp: SmtpServer, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "--db", url, "--as", ADMIN, "scheduler", "run", *args],
        cwd=ROOT, env={**os.environ, **smtp.env()}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)


def wait_for_quiet(smtp: SmtpServer, timeout: float = 60.0) -> int:
    """Wait until messages have arrived and none came for a second; return the count."""
    deadline = time.monotonic() + timeout
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(smtp.messages)
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif count and time.monotonic() - quiet_since > 1.0:
            return count
        time.sleep(0.1)
    raise AssertionError(f"no settled delivery within {timeout}s ({seen} messages)")


def test_the_service_catches_up_delivers_and_stops_on_sigterm(
        sample_store: Store, smtp: SmtpServer) -> None:
    url = sample_store.url
    sample_store.close()
    service = start(url, smtp)
    try:
        delivered = wait_for_quiet(smtp)
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=10)
    finally:
        if service.poll() is None:
            service.kill()
    stderr = service.stderr.read().decode() if service.stderr else ""
    assert service.returncode == 0, stderr
    assert "scheduler.daily_run" in stderr and "scheduler.stopped" in stderr
    with open_store(url) as store:
        ledger = store.queries.reminders(["delivered"])
    assert delivered == len(ledger) == len({m["Message-ID"] for m in smtp.messages})


def test_two_services_at_once_send_each_reminder_once(
        sample_store: Store, smtp: SmtpServer) -> None:
    url = sample_store.url
    sample_store.close()
    first, second = start(url, smtp, "--once"), start(url, smtp, "--once")
    for service in (first, second):
        service.wait(timeout=120)
    errors = [s.stderr.read().decode() for s in (first, second) if s.stderr]
    assert first.returncode == 0 and second.returncode == 0, errors
    ids = [m["Message-ID"] for m in smtp.messages]
    assert ids and len(ids) == len(set(ids))
    with open_store(url) as store:
        assert len(store.queries.reminders(["delivered"])) == len(ids)
