"""Crash tests with real processes: SIGKILL at random points, then restart and check.

Each test runs the real command line (`python -m cli ...`) against a real store (an SQLite file,
then PostgreSQL), kills it with SIGKILL after a delay drawn from a seeded RNG over the command's
measured duration (from when a do-nothing command has opened the store to when the whole
command finishes, so kills land in the work, not in the interpreter's start-up), restarts, and
checks what the README promises:

- `extramile import`: the file is stored whole or not at all (the event count is the count
  before or before + N), the hash chain verifies, and a rerun works (stores it, or refuses it
  as already recorded when the killed run had committed);
- projection catch-up (`extramile projections rebuild` over a backlog): after a restart the
  read model is exactly what a full rebuild gives and answers as before the kill;
- `extramile remind` and delivery (real SMTP server on loopback): no reminder is lost, every
  issued reminder arrives, none twice except in the stated window (accepted by the server, not
  yet recorded as delivered), and then with the same Message-ID;
- `extramile scheduler run`: the same, for the service killed while it catches up.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from engine.bootstrap import Store, init_store, open_store, today_in
from engine.demo_data import generate
from engine.projections import tables
from tests.conftest import ADMIN, fresh_postgres_database, run, sample_commands
from tests.integration.conftest import SmtpServer
from tests.reliability.conftest import scale

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
KILLS = scale(3, 12)
AS_OF = [dt.date(2009, 9, 30), dt.date(2010, 2, 15), dt.date(2010, 9, 30)]
LEASE_OVER = dt.timedelta(minutes=11)  # past the outbox's 10-minute claim lease


# --- processes --------------------------------------------------------------------------------


def cli_args(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "cli", "--db", url, "--as", ADMIN, *args]


def cli(url: str, *args: str, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_args(url, *args), cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def timed(url: str, *args: str, env: dict[str, str] | None = None) -> float:
    """Run a command to completion (it must succeed); its wall-clock duration."""
    start = time.monotonic()
    done = cli(url, *args, env=env)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - start


def kill_after(url: str, delay: float, *args: str,
               env: dict[str, str] | None = None) -> bool:
    """Start the command, SIGKILL it after `delay` seconds; True if it was killed (False if it
    had already finished, successfully)."""
    proc = subprocess.Popen(cli_args(url, *args), cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    assert proc.returncode in (0, -signal.SIGKILL), (proc.returncode, stderr)
    return proc.returncode == -signal.SIGKILL


def kill_delays(seed_base: str, opened: float, finished: float) -> list[float]:
    """One delay per kill, uniform over the command's working time (seeded, reproducible)."""
    rng = random.Random(seed_base)
    return [rng.uniform(0.8 * opened, 1.05 * finished) for _ in range(KILLS)]


def calibrate(url: str, *args: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(time for a command that only opens the store, time for `args` run to completion)."""
    opened = timed(url, "users", "list", env=env)
    return opened, timed(url, *args, env=env)


# --- stores -----------------------------------------------------------------------------------


class Stores:
    """Fresh stores of one kind (the `store_url` parameter), and copies of a prepared one."""

    def __init__(self, first: str, stack: ExitStack) -> None:
        self.first, self.stack, self.used = first, stack, False
        self.postgres = "://" in first and make_url(first).get_backend_name() == "postgresql"

    def fresh(self) -> str:
        if not self.used:
            self.used = True
            return self.first
        if self.postgres:
            return self.stack.enter_context(
                fresh_postgres_database(os.environ["EXTRAMILE_TEST_POSTGRES_URL"]))
        return str(Path(self.first).with_name(f"extramile-{uuid.uuid4().hex[:8]}.db"))

    def copy(self, url: str) -> str:
        """A copy of a closed store (file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE)."""
        if not self.postgres:
            target = Path(url).with_name(f"extramile-{uuid.uuid4().hex[:8]}.db")
            shutil.copyfile(url, target)
            return str(target)
        server = os.environ["EXTRAMILE_TEST_POSTGRES_URL"]
        name = f"extramile_test_{uuid.uuid4().hex[:12]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE '
                                  f'"{make_url(url).database}"'))
        finally:
            admin.dispose()

        def drop() -> None:
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        self.stack.callback(drop)
        return make_url(server).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback (aiosmtpd), as in tests/integration."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stores(store_url: str) -> Iterator[Stores]:
    with ExitStack() as stack:
        yield Stores(store_url, stack)


def prepared(stores: Stores, commands: list[dict[str, Any]]) -> str:
    """A closed store holding `commands` (imported in one batch)."""
    url = stores.fresh()
    with init_store(ADMIN, url=url) as store:
        if commands:
            run(store, *commands)
    return url


def event_count(url: str) -> int:
    engine = create_engine(url if "://" in url else f"sqlite:///{url}")
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM extramile_events")).scalar_one()
    finally:
        engine.dispose()


def read_model_rows(store: Store) -> dict[str, list[str]]:
    rows = {}
    with store.engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            found = conn.execute(select(table)).mappings().all()
            rows[table.name] = sorted(json.dumps(dict(r), default=str, sort_keys=True)
                                      for r in found)
    return rows


def answers(store: Store) -> dict[str, Any]:
    out = {}
    for day in AS_OF:
        out[f"overdue {day}"] = store.queries.overdue(day)
        out[f"board {day}"] = store.queries.board(day)
        out[f"funding {day}"] = store.queries.funding(day)
    return json.loads(json.dumps(out, default=str))


def check_equals_a_rebuild(store: Store) -> dict[str, list[str]]:
    """The read model as it stands equals a full rebuild from the log; return its rows."""
    before = read_model_rows(store)
    store.projector.reset()
    store.projector.catch_up()
    after = read_model_rows(store)
    assert after == before, [t for t in before if before[t] != after.get(t)]
    return after


def write_jsonl(path: Path, commands: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(c) + "\n" for c in commands), encoding="utf-8")
    return path


# --- import -----------------------------------------------------------------------------------


def test_a_killed_import_stores_the_whole_file_or_nothing_and_a_rerun_works(
        stores: Stores, tmp_path: Path) -> None:
    programme = write_jsonl(tmp_path / "programme.jsonl", generate(las=scale(2, 6), seed=7))
    empty = prepared(stores, [])
    before = event_count(empty)

    # An import that is not killed: how long it takes, what it stores, how the store answers.
    reference = stores.copy(empty)
    opened, finished = calibrate(reference, "import", str(programme))
    whole = event_count(reference) - before
    assert whole > 0
    with open_store(reference) as store:
        expected = answers(store)

    outcomes = Counter()
    for n, delay in enumerate(kill_delays(f"import {stores.first}", opened, finished)):
        url = stores.copy(empty)
        killed = kill_after(url, delay, "import", str(programme))
        stored = event_count(url)
        assert stored in (before, before + whole), (
            f"kill {n} after {delay:.2f}s left {stored - before} of {whole} events")
        outcomes["nothing" if stored == before else "whole"] += 1
        with open_store(url) as store:  # catches up whatever the killed run had not
            chain = store.verify_chain()
            assert chain.broken is None and chain.events == stored, chain
            check_equals_a_rebuild(store)
        rerun = cli(url, "import", str(programme))
        if stored == before:
            assert killed
            assert rerun.returncode == 0, rerun.stderr
        else:  # committed before the kill: the rerun is refused whole, nothing stored twice
            assert rerun.returncode == 1, rerun.stderr
            assert "nothing stored" in rerun.stderr
        assert event_count(url) == before + whole
        with open_store(url) as store:
            assert answers(store) == expected
            check_equals_a_rebuild(store)
    print(f"import kills: {dict(outcomes)}")


# --- projection catch-up ----------------------------------------------------------------------


def test_a_killed_projection_rebuild_resumes_exactly_once(stores: Stores) -> None:
    url = prepared(stores, generate(las=scale(3, 45), seed=11))
    with open_store(url) as store:
        expected_rows = check_equals_a_rebuild(store)
        expected = answers(store)
    opened, finished = calibrate(url, "projections", "rebuild")

    killed_count = 0
    for n, delay in enumerate(kill_delays(f"rebuild {stores.first}", opened, finished)):
        killed_count += kill_after(url, delay, "projections", "rebuild")
        # Restart: opening the store catches the read model up from where the kill left it.
        with open_store(url) as store:
            assert read_model_rows(store) == expected_rows, f"kill {n} after {delay:.2f}s"
            assert answers(store) == expected
    # And the command itself works after all that.
    assert cli(url, "projections", "rebuild").returncode == 0
    with open_store(url) as store:
        assert read_model_rows(store) == expected_rows
    print(f"rebuild kills that landed: {killed_count}/{KILLS}")


# --- reminders and delivery -------------------------------------------------------------------


def ledger(url: str, clock: Callable[[], dt.datetime] | None = None) -> list[dict[str, Any]]:
    with open_store(url, **({"clock": clock} if clock else {})) as store:
        return store.queries.reminders()


def planned_keys(url: str, day: dt.date) -> set[tuple[str, str, str, dt.date]]:
    with open_store(url) as store:
        return {(p.obligation, p.subject, p.kind, p.scheduled_for)
                for p in store.remind(day, ADMIN, dry_run=True)}


def key(row: dict[str, Any]) -> tuple[str, str, str, dt.date]:
    return row["obligation"], row["subject"], row["kind"], row["scheduled_for"]


def deliver_after_the_lease(url: str, smtp: SmtpServer) -> None:
    """What a later run does once the killed sender's claims ran out (10 minutes later)."""
    later = lambda: dt.datetime.now(dt.UTC) + LEASE_OVER  # noqa: E731
    with open_store(url, clock=later) as store:
        store.outbox(smtp.env()).deliver(ignore_backoff=True)


def check_delivery(rows: list[dict[str, Any]], received: list[str], at_kill: list[str],
                   ledger_at_kill: list[dict[str, Any]], planned: set[Any]) -> None:
    """After a kill and the recovery: every planned reminder issued once and delivered; every
    one arrived; a second copy only of one accepted before the kill but not recorded.

    `rows`: the ledger rows of this run; `received`: Message-IDs the server accepted since the
    run started; `at_kill`: those it had accepted when the sender was killed."""
    assert {key(r) for r in rows} == planned  # none lost, none extra (keys are unique)
    assert {r["status"] for r in rows} <= {"delivered"}, Counter(r["status"] for r in rows)
    counts = Counter(received)
    assert set(counts) == {r["message_id"] for r in rows}
    # The stated window: the server had the message when the sender died, its delivery was
    # not yet recorded. At most the one message in flight; then sent again, same Message-ID.
    recorded = {r["message_id"] for r in ledger_at_kill if r["status"] == "delivered"}
    window = {m for m in at_kill if m not in recorded}
    assert len(window) <= 1, window
    twice = {m for m, c in counts.items() if c > 1}
    assert twice <= window, (twice, window)
    assert all(c <= 2 for c in counts.values()), counts


def test_a_killed_remind_loses_no_reminder_and_sends_none_twice(
        stores: Stores, smtp: SmtpServer) -> None:
    url = prepared(stores, sample_commands())
    env = smtp.env()
    first = dt.date(2010, 1, 4)  # each kill runs a later week's reminders on the same store
    opened, finished = calibrate(url, "remind", "--as-of", str(first), env=env)
    assert smtp.messages, "the calibration run sent nothing"
    day = first
    for n, delay in enumerate(kill_delays(f"remind {stores.first}", opened, finished)):
        day += dt.timedelta(days=7)
        planned = planned_keys(url, day)
        assert planned, day
        received_before = len(smtp.messages)
        kill_after(url, delay, "remind", "--as-of", str(day), "--format", "json", env=env)
        at_kill = [m["Message-ID"] for m in smtp.messages[received_before:]]
        ledger_at_kill = ledger(url)
        # Restart: the same run again, then a later run once the killed one's claims ran out.
        again = cli(url, "remind", "--as-of", str(day), env=env)
        assert again.returncode == 0, again.stderr
        deliver_after_the_lease(url, smtp)
        rows = [r for r in ledger(url) if r["date"] == day]
        received = [m["Message-ID"] for m in smtp.messages[received_before:]]
        check_delivery(rows, received, at_kill, ledger_at_kill, planned)
        print(f"remind kill {n}: {len(at_kill)}/{len(planned)} sent before the kill")


def test_a_killed_scheduler_service_loses_no_reminder_and_sends_none_twice(
        stores: Stores, smtp: SmtpServer) -> None:
    template = prepared(stores, sample_commands())
    env = smtp.env()
    # How long the service's start-up catch-up takes, on a copy.
    opened, finished = calibrate(stores.copy(template), "scheduler", "run", "--once", env=env)
    for n, delay in enumerate(kill_delays(f"scheduler {stores.first}", opened, finished)):
        url = stores.copy(template)
        day = today_in("Europe/London")
        planned = planned_keys(url, day)
        assert planned
        received_before = len(smtp.messages)
        kill_after(url, delay, "scheduler", "run", env=env)  # the service never ends itself
        at_kill = [m["Message-ID"] for m in smtp.messages[received_before:]]
        ledger_at_kill = ledger(url)
        restarted = cli(url, "scheduler", "run", "--once", env=env)
        assert restarted.returncode == 0, restarted.stderr
        deliver_after_the_lease(url, smtp)
        assert today_in("Europe/London") == day, "the day changed during the test: rerun it"
        received = [m["Message-ID"] for m in smtp.messages[received_before:]]
        check_delivery(ledger(url), received, at_kill, ledger_at_kill, planned)
        print(f"scheduler kill {n}: {len(at_kill)}/{len(planned)} sent before the kill")


@pytest.mark.parametrize("received, at_kill, recorded, ok", [
    (["<a>", "<b>"], [], False, True),  # each once
    (["<a>", "<a>", "<b>"], ["<a>"], False, True),  # in flight at the kill: the window
    (["<a>", "<a>", "<b>"], ["<a>"], True, False),  # recorded as delivered, yet sent again
    (["<a>", "<a>", "<b>"], [], False, False),  # sent twice with no kill in between
    (["<a>"], [], False, False),  # one lost
    (["<a>", "<a>", "<a>", "<b>"], ["<a>"], False, False),  # three copies
])
def test_the_delivery_check_tells_the_window_from_a_duplicate(
        received: list[str], at_kill: list[str], recorded: bool, ok: bool) -> None:
    """check_delivery is not vacuous: it fails on a lost reminder and on a duplicate outside
    the stated window."""
    rows = [{"obligation": "o", "subject": s, "kind": "overdue",
             "scheduled_for": dt.date(2010, 1, 1), "status": "delivered",
             "message_id": f"<{s}>"} for s in ("a", "b")]
    at_kill_ledger = [{**rows[0], "status": "delivered" if recorded else "pending"}]
    planned = {key(r) for r in rows}
    if ok:
        check_delivery(rows, received, at_kill, at_kill_ledger, planned)
    else:
        with pytest.raises(AssertionError):
            check_delivery(rows, received, at_kill, at_kill_ledger, planned)
