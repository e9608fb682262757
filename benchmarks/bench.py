"""The national-scale benchmark: the engine against raw baselines measured in the same run.

    python benchmarks/bench.py [--schools 10000] [--db sqlite|postgresql+psycopg://...]
                               [--seed 1] [--repeats 3] [--no-growth] [--json FILE]

Generates a synthetic programme of `--schools` schools (5 per LA, the demo's behaviour: late,
missing, withdrawn, extended, waived), then in this one process measures

- the engine: import (commands/s, write side, then the read model's catch-up), projection rebuild
  (events/s), `overdue --as-of` at three dates (warm, ms), the whole `extramile overdue` command
  as a new process, `extramile --help`, `status` of one school (warm, ms), one day's reminder
  run, `simulate` over one month, and the peak RSS of each phase;
- baselines on the same data and the same kind of store: the bare eventsourcing library saving
  equivalent aggregates (one save per aggregate) and reading + decoding its whole log; raw
  `executemany` insert of the engine's stored event rows (1,000 per transaction) and a raw scan
  with `json.loads`;
- the ratios the targets are stated in, and (unless --no-growth) everything again at half the
  schools with the growth factor of each time.

Figures are ratios to baselines of the same run because these machines are noisy. Nothing here
is asserted: the table is the result (README "Performance").
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OFFICE = "office@extramile.dcsf.test"
OVERDUE_DAYS = (dt.date(2009, 10, 15), dt.date(2010, 2, 15), dt.date(2010, 7, 15))
REMINDER_DAY = dt.date(2010, 2, 1)  # the day after the interim reports were due
SIMULATE = (dt.date(2010, 3, 1), dt.date(2010, 3, 31))
SCHOOLS_PER_LA = 5


# --- measuring -------------------------------------------------------------------------------

def peak_rss_reset() -> None:
    """Reset the kernel's high-water mark of this process's RSS (Linux), so each phase's
    peak can be read on its own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeats))


@dataclass
class Phase:
    peaks: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def rss(self, name: str) -> Iterator[None]:
        gc.collect()
        peak_rss_reset()
        yield
        self.peaks[name] = peak_rss_mb()


# --- stores ----------------------------------------------------------------------------------

class Stores:
    """Fresh, empty stores of one kind: SQLite files in a temporary folder, or databases
    created on a PostgreSQL server (dropped at the end)."""

    def __init__(self, server: str) -> None:
        self.server = server
        self.folder = Path(tempfile.mkdtemp(prefix="extramile-bench-"))
        self.databases: list[str] = []

    @property
    def kind(self) -> str:
        return "sqlite" if self.server == "sqlite" else "postgresql"

    def new(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / (name + '.db')}"
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        database = f"extramile_bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        self.databases.append(database)
        return make_url(self.server).set(database=database).render_as_string(
            hide_password=False)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        if not self.databases:
            return
        from sqlalchemy import create_engine, text

        admin = create_engine(self.server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for database in self.databases:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


# --- the engine ------------------------------------------------------------------------------

def measure_engine(commands_file: Path, url: str, repeats: int, results: dict[str, Any],
                   phase: Phase) -> None:
    from sqlalchemy import func, select

    from engine.bootstrap import init_store
    from engine.importing import CommandFile

    store = init_store(OFFICE, url=url)
    try:
        with phase.rss("import"):
            def write() -> int:  # as `extramile import` does it, less the read model
                with commands_file.open("rb") as stream, CommandFile(stream) as commands:
                    return store.app.execute(commands, OFFICE)

            seconds, count = timed(write)
            results["commands"] = count
            results["import_s"] = seconds
            results["import_cmd_s"] = count / seconds
            catch_up_s, _ = timed(store.projector.catch_up)
            results["catch_up_s"] = catch_up_s
            results["import_whole_cmd_s"] = count / (seconds + catch_up_s)
        with store.engine.connect() as conn:
            results["events"] = conn.execute(
                select(func.count()).select_from(store.app.events_table)).scalar_one()

        with phase.rss("rebuild"):
            def rebuild() -> None:
                store.projector.reset()
                store.projector.catch_up()

            seconds, _ = timed(rebuild)
            results["rebuild_s"] = seconds
            results["rebuild_ev_s"] = results["events"] / seconds

        with phase.rss("queries"):
            for day in OVERDUE_DAYS:
                store.queries.overdue(day)  # warm
                ms = median_time(lambda d=day: store.queries.overdue(d), max(repeats, 5)) * 1000
                results[f"overdue_{day}_ms"] = ms
            school = _a_school(store)
            store.queries.status(school, OVERDUE_DAYS[1])
            results["status_ms"] = median_time(
                lambda: store.queries.status(school, OVERDUE_DAYS[1]), max(repeats, 5)) * 1000

        with phase.rss("remind"):
            seconds, issued = timed(lambda: store.remind(REMINDER_DAY, OFFICE))
            results["remind_s"] = seconds
            results["remind_count"] = len(issued)
        with phase.rss("simulate"):
            seconds, issued = timed(lambda: store.simulate(*SIMULATE, OFFICE))
            results["simulate_s"] = seconds
            results["simulate_count"] = len(issued)
    finally:
        store.close()

    env = dict(os.environ, EXTRAMILE_DATABASE_URL=url, EXTRAMILE_USER=OFFICE)
    cli = [sys.executable, "-m", "cli"]
    day = str(OVERDUE_DAYS[1])
    results["overdue_cli_s"] = median_time(lambda: _run(
        [*cli, "overdue", "--as-of", day, "--format", "json"], env), repeats)
    results["help_cli_s"] = median_time(lambda: _run([*cli, "--help"], env), max(repeats, 5))


def _a_school(store: Any) -> str:
    from sqlalchemy import select

    from engine.projections import tables

    with store.engine.connect() as conn:
        return conn.execute(select(tables.subjects.c.subject)
                            .where(tables.subjects.c.kind == "school")
                            .order_by(tables.subjects.c.seq).limit(1)).scalar_one()


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")


# --- baselines -------------------------------------------------------------------------------

@functools.cache
def _bare_classes() -> tuple[type, type]:
    """The bare library's aggregate and application, defined once per process (eventsourcing
    refuses a second class under the same topic)."""
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Subject(Aggregate):
        @event("Created")
        def __init__(self, key: str) -> None:
            self.key = key

        @event("Recorded")
        def record(self, fields: dict[str, Any]) -> None:
            pass

    class Bare(Application):
        name = "bare"

    return Subject, Bare


def measure_bare_library(commands: list[dict[str, Any]], url: str,
                         results: dict[str, Any]) -> None:
    """The bare library: one aggregate per subject with one event per command, carrying the
    command's fields; one save per aggregate; then the whole log read and decoded."""
    Subject, Bare = _bare_classes()
    app = Bare({"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url,
                "CREATE_TABLE": "y"})
    by_subject: dict[str, list[dict[str, Any]]] = {}
    for c in commands:
        key = c.get("school") or c.get("la") or c.get("subject") or "programme"
        by_subject.setdefault(key, []).append(c)

    def save() -> int:
        count = 0
        for key, cmds in by_subject.items():
            aggregate = Subject(key)
            for c in cmds:
                aggregate.record(c)
            count += len(aggregate.pending_events)
            app.save(aggregate)
        return count

    seconds, count = timed(save)
    results["bare_events"] = count
    results["bare_save_ev_s"] = count / seconds

    def read() -> int:
        n, start = 0, 0
        while True:
            batch = app.recorder.select_notifications(start=start, limit=5000,
                                                      inclusive_of_start=False)
            if not batch:
                return n
            for notification in batch:
                app.mapper.to_domain_event(notification)
            n += len(batch)
            start = batch[-1].id

    seconds, count = timed(read)
    results["bare_decode_ev_s"] = count / seconds
    app.close()


def measure_raw(engine_url: str, raw_url: str, results: dict[str, Any]) -> None:
    """Raw DB-API: executemany of the engine's stored event rows (1,000 per transaction) into a
    plain table, and a scan of them with json.loads."""
    from sqlalchemy import create_engine, text

    source = create_engine(engine_url)
    with source.connect() as conn:
        rows = [(str(r[0]), r[1], r[2], bytes(r[3])) for r in conn.execute(text(
            "SELECT originator_id, originator_version, topic, state "
            "FROM extramile_events ORDER BY id"))]
    source.dispose()
    target = create_engine(raw_url)
    postgres = target.dialect.name == "postgresql"
    blob = "BYTEA" if postgres else "BLOB"
    mark = "%s" if postgres else "?"
    with target.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE raw_events (id {'BIGSERIAL' if postgres else 'INTEGER'}"
                             f" PRIMARY KEY, originator_id TEXT, originator_version INTEGER, "
                             f"topic TEXT, state {blob})")
    raw = target.raw_connection()
    try:
        def insert() -> None:
            cursor = raw.cursor()
            sql = (f"INSERT INTO raw_events (originator_id, originator_version, topic, state) "
                   f"VALUES ({mark}, {mark}, {mark}, {mark})")
            for i in range(0, len(rows), 1000):
                cursor.executemany(sql, rows[i:i + 1000])
                raw.commit()
            cursor.close()

        seconds, _ = timed(insert)
        results["raw_insert_rows_s"] = len(rows) / seconds

        def scan() -> int:
            cursor = raw.cursor()
            cursor.execute("SELECT id, originator_id, originator_version, topic, state "
                           "FROM raw_events ORDER BY id")
            n = 0
            for row in cursor:
                json.loads(bytes(row[4]))
                n += 1
            cursor.close()
            return n

        seconds, count = timed(scan)
        results["raw_scan_rows_s"] = count / seconds
    finally:
        raw.close()
        target.dispose()


# --- one size --------------------------------------------------------------------------------

def run_size(schools: int, server: str, seed: int, repeats: int) -> dict[str, Any]:
    from engine.demo_data import generate

    stores = Stores(server)
    phase = Phase()
    results: dict[str, Any] = {"store": stores.kind}
    try:
        las = max(1, round(schools / SCHOOLS_PER_LA))
        commands = generate(las=las, seed=seed)
        results["las"] = las
        results["schools"] = sum(1 for c in commands if c["cmd"] == "school.nominate")
        commands_file = stores.folder / "programme.jsonl"
        with commands_file.open("w", encoding="utf-8") as out:
            for c in commands:
                out.write(json.dumps(c, default=str) + "\n")
        count = len(commands)
        del commands  # the engine reads the file; the peak RSS is then the engine's own
        gc.collect()
        engine_url = stores.new("engine")
        _say(f"{results['schools']} schools, {count} commands: engine ...")
        measure_engine(commands_file, engine_url, repeats, results, phase)
        results["peak_rss_mb"] = max(phase.peaks.values())
        results["peaks_mb"] = phase.peaks
        _say("bare library ...")
        with commands_file.open(encoding="utf-8") as lines:
            measure_bare_library([json.loads(line) for line in lines], stores.new("bare"),
                                 results)
        _say("raw DB-API ...")
        measure_raw(engine_url, stores.new("raw"), results)
        results["import_ratio"] = results["import_cmd_s"] / results["bare_save_ev_s"]
        results["rebuild_ratio"] = results["rebuild_ev_s"] / results["bare_decode_ev_s"]
    finally:
        stores.close()
    return results


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- the table -------------------------------------------------------------------------------

# (label, key, format, target text, check) ; check(value) -> bool | None
TIMES = ["import_s", "catch_up_s", "rebuild_s", *(f"overdue_{d}_ms" for d in OVERDUE_DAYS),
         "overdue_cli_s", "help_cli_s", "status_ms", "remind_s", "simulate_s"]


def rows(r: dict[str, Any]) -> list[tuple[str, str, str, bool | None]]:
    """(measure, value, target, met) for one size."""
    out: list[tuple[str, str, str, bool | None]] = [
        ("schools / LAs / commands / events",
         f"{r['schools']:,} / {r['las']:,} / {r['commands']:,} / {r['events']:,}", "", None),
        ("import, write side (commands/s)", f"{r['import_cmd_s']:,.0f}  ({r['import_s']:.1f} s)",
         "", None),
        ("  then read-model catch-up (s)", f"{r['catch_up_s']:.1f}", "", None),
        ("import, whole (commands/s, both)", f"{r['import_whole_cmd_s']:,.0f}", "", None),
        ("projection rebuild (events/s)", f"{r['rebuild_ev_s']:,.0f}  ({r['rebuild_s']:.1f} s)",
         "", None),
    ]
    for day in OVERDUE_DAYS:
        ms = r[f"overdue_{day}_ms"]
        out.append((f"overdue --as-of {day}, warm (ms)", f"{ms:.0f}", "<= 150", ms <= 150))
    out += [
        ("extramile overdue, whole command (s)", f"{r['overdue_cli_s']:.2f}", "<= 1.5",
         r["overdue_cli_s"] <= 1.5),
        ("extramile --help (s)", f"{r['help_cli_s']:.2f}", "<= 0.3", r["help_cli_s"] <= 0.3),
        ("status of one school, warm (ms)", f"{r['status_ms']:.1f}", "<= 50",
         r["status_ms"] <= 50),
        (f"remind {REMINDER_DAY} (s)", f"{r['remind_s']:.2f}  ({r['remind_count']:,} issued)",
         "<= 2", r["remind_s"] <= 2),
        (f"simulate {SIMULATE[0]:%b %Y} (s)",
         f"{r['simulate_s']:.2f}  ({r['simulate_count']:,} issued)", "", None),
        ("peak RSS (MB)", f"{r['peak_rss_mb']:.0f}", "<= 400", r["peak_rss_mb"] <= 400),
        ("bare library save (events/s)", f"{r['bare_save_ev_s']:,.0f}", "", None),
        ("bare library log read + decode (events/s)", f"{r['bare_decode_ev_s']:,.0f}", "", None),
        ("raw executemany insert (rows/s)", f"{r['raw_insert_rows_s']:,.0f}", "", None),
        ("raw scan + json.loads (rows/s)", f"{r['raw_scan_rows_s']:,.0f}", "", None),
        ("import / bare save", f"{r['import_ratio']:.0%}", ">= 50%", r["import_ratio"] >= 0.5),
        ("rebuild / bare decode", f"{r['rebuild_ratio']:.0%}", ">= 40%",
         r["rebuild_ratio"] >= 0.4),
    ]
    return out


def growth(small: dict[str, Any], large: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """How much longer each time took at the larger size, scaled to exactly twice the schools
    (the generator's school counts are not exactly 2:1)."""
    scale = 2 * small["schools"] / large["schools"]
    out = []
    for key in TIMES:
        factor = large[key] / small[key] * scale if small[key] else float("nan")
        limit = 2.2
        out.append((key, f"x{factor:.2f}", factor <= limit))
    return out


def print_report(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    sizes = sorted(results, key=lambda r: r["schools"])
    table = Table(title=f"extramile benchmark ({sizes[0]['store']}, "
                        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]})")
    table.add_column("measure")
    for r in reversed(sizes):
        table.add_column(f"{r['schools']:,} schools", justify="right")
    table.add_column("target", justify="right")
    per_size = [rows(r) for r in reversed(sizes)]
    for i, (label, _, target, _) in enumerate(per_size[0]):
        cells = []
        for size_rows in per_size:
            _, value, _, met = size_rows[i]
            mark = "" if met is None else (" [green]ok[/]" if met else " [red]SHORT[/]")
            cells.append(value + mark)
        table.add_row(label, *cells, target)
    console.print(table)
    if len(sizes) == 2:
        g = Table(title=f"growth from {sizes[0]['schools']:,} to {sizes[1]['schools']:,} "
                        "schools (time ratio, scaled to x2 the schools)")
        g.add_column("time")
        g.add_column("factor", justify="right")
        g.add_column("target", justify="right")
        for key, factor, met in growth(*sizes):
            g.add_row(key, factor + (" [green]ok[/]" if met else " [red]SHORT[/]"), "<= x2.2")
        console.print(g)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schools", type=int, default=10_000,
                        help="schools in the synthetic programme (default 10000)")
    parser.add_argument("--db", default="sqlite",
                        help="'sqlite' (files in a temporary folder, the default) or a "
                             "PostgreSQL server URL (databases are created and dropped)")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats of the cheap measures (medians)")
    parser.add_argument("--no-growth", action="store_true",
                        help="skip the second run at half the schools")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    args = parser.parse_args(argv)

    sizes = [args.schools] if args.no_growth else [args.schools // 2, args.schools]
    results = []
    for n in sizes:
        results.append(run_size(n, args.db, args.seed, args.repeats))
        if args.json:  # after each size, so a failure later keeps what was measured
            args.json.write_text(json.dumps(results, indent=2, default=str))
    print_report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
