"""The CLI's writing side through click's runner: import, record, projections rebuild.

Each test works on a real SQLite file under tmp_path, created with `extramile init`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.builders import baseline, cluster, nominate, register
from tests.conftest import DATA

ADMIN = "admin@x.test"


# --- helpers ------------------------------------------------------------------------------------


def extramile(db: Path, *args: str, user: str = ADMIN) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), "--as", user, *args])


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def refused(result: Result) -> str:
    """A run that must exit 1 with a message and no traceback; its stderr."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    no_traceback(result)
    assert result.stderr.strip()
    return result.stderr


def jsonl(path: Path, lines: list[Any]) -> Path:
    """Write an import file: dicts as JSON, strings as they are."""
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines), encoding="utf-8")
    return path


def nothing_stored(db: Path, subject: str = "LA01") -> None:
    stderr = refused(extramile(db, "status", subject, "--as-of", "2010-09-30"))
    assert "unknown" in stderr and subject in stderr


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "extramile.db"
    result = extramile(path, "init", "--admin", ADMIN)
    assert result.exit_code == 0, result.stderr
    return path


@pytest.fixture
def sample_db(db: Path) -> Path:
    result = extramile(db, "import", str(DATA / "sample-programme.jsonl"))
    assert result.exit_code == 0, result.stderr
    return db


# --- a large import whose last line is bad --------------------------------------------------------


def thousand_lines() -> list[Any]:
    """200 LAs, each registered with 4 trial schools nominated: 1,000 valid commands."""
    lines: list[Any] = []
    for n in range(1, 201):
        la = f"LA{n:03}"
        lines.append(register(la))
        lines.extend(nominate(f"S{n:03}-{i}", la) for i in range(1, 5))
    return lines


@pytest.mark.parametrize("bad", [
    nominate("S999-1", "LA999"),
    {**nominate("S200-4", "LA200"), "on": "2010-02-30"},
    '{"cmd": "school.nominate", "on": ',
], ids=["unknown_la", "impossible_date", "broken_json"])
def test_a_1000_line_import_with_a_bad_last_line_stores_nothing(db, tmp_path, bad):
    lines = thousand_lines()
    lines[-1] = bad
    stderr = refused(extramile(db, "import", str(jsonl(tmp_path / "big.jsonl", lines))))
    assert "line 1000" in stderr
    assert "line 999" not in stderr
    assert "nothing stored" in stderr
    nothing_stored(db, "LA001")
    overdue = extramile(db, "overdue", "--as-of", "2009-07-01", "--responsible", "la",
                        "--format", "json")
    assert overdue.exit_code == 0
    assert json.loads(overdue.stdout) == []


def test_the_same_1000_lines_all_good_are_stored(db, tmp_path):
    result = extramile(db, "import", str(jsonl(tmp_path / "big.jsonl", thousand_lines())))
    assert result.exit_code == 0, result.stderr
    assert "imported 1000 commands" in result.stdout
    status = extramile(db, "status", "S200-4", "--as-of", "2009-07-01", "--format", "json")
    assert json.loads(status.stdout)["la"] == "LA200"


# --- one bad line: a clear message naming it ----------------------------------------------------

BAD_LINES = {
    "impossible_date": ({**register("LA02"), "on": "2010-02-30"}, "2010-02-30"),
    "broken_json": ('{"cmd": "la.register", "on": "2009-05-10",', "not valid JSON"),
    "unknown_command": ({**register("LA02"), "cmd": "la.registered"}, "unknown command"),
    "missing_field": ({k: v for k, v in register("LA02").items() if k != "name"},
                      "missing field 'name'"),
    "unknown_field": ({**register("LA02"), "colour": "red"}, "unknown field 'colour'"),
    "wrong_type": ({**register("LA02"), "name": 42}, "name"),
    "not_an_object": ("[1, 2, 3]", "JSON object"),
    "domain_rule": (nominate("T9", "LA09"), "unknown LA 'LA09'"),
}


@pytest.mark.parametrize("name", list(BAD_LINES))
def test_a_bad_line_is_refused_naming_it(db, tmp_path, name):
    bad, message = BAD_LINES[name]
    path = jsonl(tmp_path / "bad.jsonl", [register("LA01"), bad, nominate("T1", "LA01")])
    stderr = refused(extramile(db, "import", str(path)))
    assert "line 2" in stderr
    assert message in stderr
    assert "line 1:" not in stderr and "line 3" not in stderr
    nothing_stored(db)


def test_every_bad_line_is_reported_at_once(db, tmp_path):
    lines = [register("LA01"), BAD_LINES["broken_json"][0], nominate("T1", "LA01"),
             nominate("T2", "LA09"), BAD_LINES["impossible_date"][0]]
    stderr = refused(extramile(db, "import", str(jsonl(tmp_path / "bad.jsonl", lines))))
    for number in (2, 4, 5):
        assert f"line {number}:" in stderr
    assert "3 rejected lines" in stderr


# --- a good import, and record ------------------------------------------------------------------


def test_a_good_import_prints_a_summary(db, tmp_path):
    path = jsonl(tmp_path / "good.jsonl", [*cluster(), "", baseline("T1")])
    result = extramile(db, "import", str(path))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"imported 7 commands from {path}"
    status = extramile(db, "status", "T1", "--as-of", "2009-09-01", "--format", "json")
    assert json.loads(status.stdout)["stage"] == "baselined"


def test_record_stores_one_command(db):
    result = extramile(db, "record", "la.register", "--on", "2009-05-10",
                       "--by", "office@extramile.dcsf.test", "--la", "LA01",
                       "--name", "Sefton", "--contact", "extramile@la01.test")
    assert result.exit_code == 0, result.stderr
    assert "recorded la.register for LA01 on 2009-05-10" in result.stdout
    status = extramile(db, "status", "LA01", "--as-of", "2009-06-01", "--format", "json")
    assert status.exit_code == 0
    assert json.loads(status.stdout)["kind"] == "la"


def test_record_takes_structured_fields_from_a_data_file(db, tmp_path):
    assert extramile(db, "import", str(jsonl(tmp_path / "c.jsonl", cluster()))).exit_code == 0
    fields = {k: v for k, v in baseline("T1").items() if k not in ("cmd", "on", "by")}
    data = tmp_path / "baseline.json"
    data.write_text(json.dumps(fields), encoding="utf-8")
    result = extramile(db, "record", "school.baselined", "--on", "2009-09-01",
                       "--by", "head@t1.test", "--data", str(data))
    assert result.exit_code == 0, result.stderr
    status = extramile(db, "status", "T1", "--as-of", "2009-09-01", "--format", "json")
    assert json.loads(status.stdout)["stage"] == "baselined"


@pytest.mark.parametrize(("args", "message"), [
    (["school.nominate", "--on", "2009-05-21", "--by", "a@la09.test", "--school", "T1",
      "--la", "LA09", "--role", "trial", "--name", "T1 Primary"], "unknown LA 'LA09'"),
    (["la.register", "--on", "2010-02-30", "--by", "office@x.test", "--la", "LA01",
      "--name", "Sefton", "--contact", "extramile@la01.test"], "2010-02-30"),
    (["la.registered", "--on", "2009-05-10", "--by", "office@x.test"], "unknown command"),
    (["la.register", "--on", "2009-05-10", "--by", "office@x.test", "--la", "LA01"],
     "missing field"),
], ids=["domain_rule", "impossible_date", "unknown_command", "missing_field"])
def test_a_bad_record_exits_1(db, args, message):
    stderr = refused(extramile(db, "record", *args))
    assert message in stderr
    nothing_stored(db)


# --- queries on the sample programme, and rebuilding the read model -------------------------------


def test_overdue_on_the_sample_programme_matches_the_expected_file(sample_db):
    expected = json.loads((DATA / "sample-expected-overdue.json").read_text())["2010-02-15"]
    result = extramile(sample_db, "overdue", "--as-of", "2010-02-15", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == expected


QUERIES = [
    ["overdue", "--as-of", "2010-02-15", "--format", "json"],
    ["status", "T003", "--as-of", "2010-02-15", "--format", "json"],
    ["board", "--as-of", "2010-02-15", "--format", "json"],
]


def test_rebuilding_the_projections_gives_byte_identical_answers(sample_db):
    before = [extramile(sample_db, *query).stdout_bytes for query in QUERIES]
    assert all(before)
    rebuilt = extramile(sample_db, "projections", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "rebuilt the read model" in rebuilt.stdout
    after = [extramile(sample_db, *query).stdout_bytes for query in QUERIES]
    assert after == before


# --- who is recording ---------------------------------------------------------------------------


def test_an_unknown_user_is_refused(db, tmp_path):
    path = jsonl(tmp_path / "good.jsonl", cluster())
    stderr = refused(extramile(db, "import", str(path), user="nobody@x.test"))
    assert "nobody@x.test" in stderr
    nothing_stored(db)


def test_an_unknown_user_cannot_record(db):
    stderr = refused(extramile(db, "record", "la.register", "--on", "2009-05-10",
                               "--by", "office@x.test", "--la", "LA01", "--name", "Sefton",
                               "--contact", "extramile@la01.test", user="nobody@x.test"))
    assert "nobody@x.test" in stderr
    nothing_stored(db)


# --- from a pipe ----------------------------------------------------------------------------------


def import_from_a_pipe(db: Path, data: bytes) -> Any:
    """`extramile import -` in a real process, fed through a pipe (which cannot seek)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "cli", "--db", str(db), "--as", ADMIN,
                           "import", "-"], input=data, capture_output=True, check=False,
                          timeout=120)


def test_an_import_from_a_pipe_is_stored_whole_or_not_at_all(db):
    bad = (json.dumps(register("LA01")) + "\nnot json\n").encode()
    refusal = import_from_a_pipe(db, bad)
    assert refusal.returncode == 1
    assert b"<stdin>: line 2:" in refusal.stderr and b"nothing stored" in refusal.stderr
    nothing_stored(db)
    good = (DATA / "sample-programme.jsonl").read_bytes()
    done = import_from_a_pipe(db, good)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("imported 226 commands from <stdin>")
