"""Part 4, a hostile environment: an SQLite store locked by another writer, a read-only store
file, a read-only file system, a full disk, and a PostgreSQL server that goes away in the middle
of a command (a TCP proxy in this process, cut by the test).

Each time: one clear error and exit 1 from a real CLI process, no traceback, nothing partly
stored (the event count and the audit chain say so), and after recovery the store answers
correctly and takes the same command.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.builders import nominate, register
from tests.reliability.clitools import (
    ADMIN,
    ROOT,
    describe,
    event_count,
    init,
    invoke,
    one_clear_error,
    run_cli,
)
from tests.reliability.conftest import scale
from tests.reliability.tcpproxy import KillingProxy

RECORD_LA01 = ["record", "la.register", "--on", "2009-05-10", "--by", "office@x.test",
               "--la", "LA01", "--name", "Sefton", "--contact", "extramile@la01.test"]


def status_of(db: str | Path, subject: str) -> dict:
    result = invoke(db, "status", subject, "--as-of", "2009-07-01", "--format", "json")
    assert result.exit_code == 0, describe(result)
    return json.loads(result.stdout)


def chain_intact(db: str | Path, events: int) -> None:
    result = invoke(db, "audit", "verify")
    assert result.exit_code == 0, describe(result)
    assert f"audit chain intact: {events} events" in result.stdout, describe(result)


def recorded_after_recovery(db: str | Path) -> None:
    """The command refused in the hostile moment is taken once the trouble is gone."""
    before = event_count(db)
    result = run_cli(db, *RECORD_LA01)
    assert result.returncode == 0, describe(result)
    assert status_of(db, "LA01")["kind"] == "la"
    assert event_count(db) > before
    chain_intact(db, event_count(db))


def programme_lines(las: int) -> list[dict]:
    lines: list[dict] = []
    for n in range(1, las + 1):
        la = f"LA{n:03}"
        lines += [register(la), *(nominate(f"S{n:03}-{i}", la) for i in range(1, 5))]
    return lines


def write_jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


# --- SQLite: locked by another writer -----------------------------------------------------------


@contextlib.contextmanager
def writer_lock(db: Path) -> Iterator[sqlite3.Connection]:
    """Another process-like writer holding SQLite's write lock (BEGIN IMMEDIATE)."""
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    finally:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        conn.close()


def test_a_locked_sqlite_store_waits_then_refuses_with_one_clear_line(tmp_path):
    db = tmp_path / "extramile.db"
    init(db)
    before = event_count(db)
    with writer_lock(db):
        started = time.monotonic()
        result = run_cli(db, *RECORD_LA01)
        waited = time.monotonic() - started
    line = one_clear_error(result)
    assert "locked" in line, line
    assert waited >= 4.0, f"gave up after {waited:.1f} s without waiting for the lock"
    assert event_count(db) == before
    chain_intact(db, before)
    recorded_after_recovery(db)


def test_a_short_lock_is_waited_out_and_the_command_succeeds(tmp_path):
    db = tmp_path / "extramile.db"
    init(db)
    before = event_count(db)
    conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    release = threading.Timer(3.0, lambda: conn.execute("ROLLBACK"))
    release.start()
    try:
        started = time.monotonic()
        result = run_cli(db, *RECORD_LA01)
        elapsed = time.monotonic() - started
    finally:
        release.join()
        conn.close()
    assert result.returncode == 0, describe(result)
    assert elapsed >= 3.0  # it could not have written before the lock was released
    assert status_of(db, "LA01")["name"] == "Sefton"
    assert event_count(db) > before
    chain_intact(db, event_count(db))


# --- a read-only store file, a read-only file system ---------------------------------------------


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file read-only even for root: mode 0444, and the immutable attribute as root."""
    mode = path.stat().st_mode
    path.chmod(0o444)
    immutable = False
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            path.chmod(mode)
            pytest.skip(f"running as root and cannot make {path} immutable "
                        f"(chattr: {done.stderr.strip()}), so it cannot be read-only")
        immutable = True
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(mode)


def test_a_read_only_store_file_refuses_writes_with_one_clear_line(tmp_path):
    db = tmp_path / "extramile.db"
    init(db)
    before = event_count(db)
    with read_only(db):
        with pytest.raises(PermissionError):
            db.open("ab").close()  # the premise: nobody can write it
        line = one_clear_error(run_cli(db, *RECORD_LA01))
        assert "readonly" in line.replace("-", "").replace(" ", "") or "read-only" in line, line
        assert event_count(db) == before
    chain_intact(db, before)
    recorded_after_recovery(db)


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A small tmpfs mounted at `where` (skips, saying why, only if mounting is impossible)."""
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs",
                           str(where)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (need root/CAP_SYS_ADMIN): "
                    f"{done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True)


def test_a_store_on_a_read_only_file_system_refuses_writes_with_one_clear_line(tmp_path):
    with tmpfs(tmp_path / "mnt", "16m") as mnt:
        db = mnt / "extramile.db"
        init(db)
        before = event_count(db)
        remount(mnt, "ro")
        try:
            one_clear_error(run_cli(db, *RECORD_LA01))
        finally:
            remount(mnt, "rw")
        assert event_count(db) == before
        chain_intact(db, before)
        recorded_after_recovery(db)


# --- a full disk ----------------------------------------------------------------------------------


def fill(directory: Path, leave: int = 0) -> Path:
    """Write a file until the file system is full, then give back `leave` bytes; the file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 4096, 512):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    assert shutil.disk_usage(directory).free < 16 * 1024
    if leave:
        os.truncate(filler, filler.stat().st_size - leave)
    return filler


def test_a_full_disk_refuses_an_import_with_one_clear_line_and_stores_nothing(tmp_path):
    lines = programme_lines(scale(40, 200))
    # Room for the whole store once the disk is freed again: it grows with the programme.
    with tmpfs(tmp_path / "mnt", f"{scale(4, 40)}m") as mnt:
        db = mnt / "extramile.db"
        init(db)
        before = event_count(db)
        path = write_jsonl(tmp_path / "programme.jsonl", lines)
        filler = fill(mnt, leave=256 * 1024)  # room to open the store, not for the import
        chain_intact(db, before)  # it opens and reads: the import itself runs out of space
        line = one_clear_error(run_cli(db, "import", str(path)))
        assert "disk" in line, line  # SQLite says "disk I/O error" (WAL) or "disk is full"
        filler.unlink()
        assert event_count(db) == before
        chain_intact(db, before)
        result = run_cli(db, "import", str(path))
        assert result.returncode == 0, describe(result)
        assert f"imported {len(lines)} commands" in result.stdout
        assert status_of(db, "S001-4")["la"] == "LA001"
        chain_intact(db, event_count(db))


def test_a_file_size_limit_refuses_an_import_with_one_clear_line(tmp_path):
    """The same without mounting anything: RLIMIT_FSIZE makes every write past the store's
    current size fail (EFBIG), as a full disk would."""
    import resource

    db = tmp_path / "extramile.db"
    init(db)
    before = event_count(db)
    path = write_jsonl(tmp_path / "programme.jsonl", programme_lines(40))
    limit = db.stat().st_size + 8192

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = {k: v for k, v in os.environ.items() if not k.startswith("EXTRAMILE_")}
    argv = [sys.executable, "-m", "cli", "--db", str(db), "--as", ADMIN, "import", str(path)]
    proc = subprocess.run(argv, env={**env, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
                          preexec_fn=limited, capture_output=True, text=True, timeout=120,
                          check=False)
    one_clear_error(proc)
    assert event_count(db) == before
    chain_intact(db, before)
    recorded_after_recovery(db)


# --- PostgreSQL: the server goes away in the middle of a command ----------------------------------


def through(proxy: KillingProxy, url: str) -> str:
    parsed = make_url(url)
    return parsed.set(host="127.0.0.1", port=proxy.port,
                      query={**parsed.query, "sslmode": "disable"}).render_as_string(
                          hide_password=False)


def on_message(fragment: bytes) -> Callable[[bytes], bool]:
    return lambda chunk: fragment in chunk


def on_commit_after(fragment: bytes) -> Callable[[bytes], bool]:
    """The COMMIT of the transaction that sent `fragment` (never reaching the server)."""
    seen = False

    def trigger(chunk: bytes) -> bool:
        nonlocal seen
        if fragment in chunk:
            seen = True
            return b"COMMIT\x00" in chunk.split(fragment, 1)[1]
        return seen and b"COMMIT\x00" in chunk

    return trigger


KILL_POINTS = {
    # the batch's events are being written: nothing may be stored
    "inserting_events": (on_message(b"INSERT INTO extramile_events"), False),
    # the batch is written and its COMMIT is on its way: the server never gets it
    "at_commit": (on_commit_after(b"INSERT INTO em_chain"), False),
    # the events are committed, the read model is being brought up to date
    "updating_the_read_model": (on_message(b"INSERT INTO em_subjects"), True),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_postgres_going_away_mid_import_is_one_clear_error_and_no_corruption(
        postgres_url, tmp_path, point):
    trigger, events_committed = KILL_POINTS[point]
    lines = programme_lines(3)
    path = write_jsonl(tmp_path / "programme.jsonl", lines)
    init(postgres_url)
    before = event_count(postgres_url)
    proxy = KillingProxy(("127.0.0.1", make_url(postgres_url).port or 5432))
    proxy.kill_when(trigger)
    try:
        result = run_cli(through(proxy, postgres_url), "import", str(path), timeout=120)
    finally:
        proxy.kill()
    assert proxy.connections >= 1
    line = one_clear_error(result)
    assert "database" in line or "connection" in line, line
    # Recovery: the server is reachable directly again; the store is whole.
    after = event_count(postgres_url)
    if events_committed:
        # Cut after the commit: the user is told the outcome is unknown and how to check.
        assert "may or may not have been stored" in line and "extramile audit" in line, line
        assert after > before
        assert status_of(postgres_url, "S003-4")["la"] == "LA003"  # read model caught up
        chain_intact(postgres_url, after)
        again = run_cli(postgres_url, "import", str(path))
        assert again.returncode == 1  # already stored: refused by the rules, not re-stored
        assert event_count(postgres_url) == after
    else:
        assert after == before
        chain_intact(postgres_url, before)
        stored = run_cli(postgres_url, "import", str(path))
        assert stored.returncode == 0, describe(stored)
        assert status_of(postgres_url, "S003-4")["la"] == "LA003"
        chain_intact(postgres_url, event_count(postgres_url))


def test_postgres_unreachable_from_the_start_is_one_clear_error(postgres_url):
    init(postgres_url)
    proxy = KillingProxy(("127.0.0.1", make_url(postgres_url).port or 5432))
    proxy.kill()
    line = one_clear_error(run_cli(through(proxy, postgres_url), *RECORD_LA01, timeout=120))
    assert "database" in line or "connect" in line, line
    recorded_after_recovery(postgres_url)


@pytest.mark.slow
@pytest.mark.parametrize("after_kb", [20, 60, 120, 200, 300, 400][:scale(3, 6)])
def test_postgres_cut_after_so_many_bytes_leaves_all_or_nothing(postgres_url, tmp_path,
                                                                 after_kb):
    """Cut wherever the byte count falls: the import is then wholly stored or not at all."""
    lines = programme_lines(20)
    path = write_jsonl(tmp_path / "programme.jsonl", lines)
    init(postgres_url)
    before = event_count(postgres_url)
    proxy = KillingProxy(("127.0.0.1", make_url(postgres_url).port or 5432))
    proxy.kill_when(lambda chunk: proxy.sent > after_kb * 1024)
    try:
        result = run_cli(through(proxy, postgres_url), "import", str(path), timeout=120)
    finally:
        proxy.kill()
    if result.returncode != 0:
        one_clear_error(result)
    after = event_count(postgres_url)
    chain_intact(postgres_url, after)
    if after == before:
        assert result.returncode != 0
        stored = run_cli(postgres_url, "import", str(path))
        assert stored.returncode == 0, describe(stored)
    # Stored (then or now): all of it, first line to last, in the read model too.
    assert status_of(postgres_url, "LA001")["kind"] == "la"
    assert status_of(postgres_url, "S020-4")["la"] == "LA020"
