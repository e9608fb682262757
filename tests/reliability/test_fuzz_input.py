"""Part 3, fuzzed input: arbitrary bytes and arbitrary JSON values into `extramile import`,
`extramile record` and the timeline loader (`extramile timeline check FILE`,
`engine.timeline.load`).

Whatever comes in, the answer is one clear error and exit 1 (an import names each rejected line
and then says nothing was stored), never a traceback, and never a partial store: the number of
stored events is unchanged. Inputs that may by chance be valid (valid command names with fuzzed
field values, the real timeline with one value replaced) must either succeed cleanly or be
refused that way.

Bulk fuzzing runs in process (click's runner, a real SQLite file); a few cases run as real
processes of the CLI, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from engine import timeline as tl
from engine.commands import COMMANDS, VOCABULARY
from tests.builders import cluster, register
from tests.reliability.clitools import (
    describe,
    event_count,
    import_refusal,
    init,
    invoke,
    lines_of,
    no_traceback,
    one_clear_error,
    run_cli,
)
from tests.reliability.conftest import scale

HEALTH = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
FUZZ = settings(max_examples=scale(25, 100), deadline=None, suppress_health_check=HEALTH)
# Each example of these runs the CLI against the store (~0.3 s): fewer by default.
FUZZ_STORE = settings(max_examples=scale(15, 100), deadline=None, suppress_health_check=HEALTH)

# --- strategies -----------------------------------------------------------------------------------

scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
           | st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=12)
programme_days = st.dates(dt.date(2009, 5, 1), dt.date(2010, 9, 30)).map(dt.date.isoformat)
emails = st.from_regex(r"\A[a-z]{1,6}@[a-z]{1,6}\.test\Z")
command_names = st.sampled_from(sorted(COMMANDS))


@st.composite
def near_valid_commands(draw: st.DrawFn) -> dict[str, Any]:
    """A known command with plausible-or-fuzzed `on`, `by` and fields of its own."""
    name = draw(command_names)
    fields = sorted(VOCABULARY[name])
    command: dict[str, Any] = {"cmd": name,
                               "on": draw(programme_days | json_values),
                               "by": draw(emails | json_values)}
    for field in draw(st.lists(st.sampled_from(fields), unique=True)) if fields else []:
        command[field] = draw(st.sampled_from(["LA01", "T1", "P1"]) | emails | json_values)
    if draw(st.booleans()):
        command[draw(st.text(max_size=8))] = draw(json_values)
    return command


def never_a_command(value: Any) -> bool:
    """True for a JSON value no command can be: not an object, or no known `cmd`."""
    return not isinstance(value, dict) or value.get("cmd") not in COMMANDS


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A real SQLite store with an LA and its cluster of schools (so commands can succeed)."""
    path = tmp_path / "extramile.db"
    init(path)
    lines = tmp_path / "cluster.jsonl"
    lines.write_text("".join(json.dumps(c) + "\n" for c in cluster()), encoding="utf-8")
    result = invoke(path, "import", str(lines))
    assert result.exit_code == 0, describe(result)
    return path


# --- import -------------------------------------------------------------------------------------


def _blank(data: bytes) -> bool:
    try:
        return not data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return False


@FUZZ_STORE
@given(data=st.binary(min_size=1, max_size=300))
@example(data=b"\xff\xfe{\"cmd\": \"la.register\"}\n")
@example(data=b"\x00\x01\x02")
def test_import_of_arbitrary_bytes_is_one_clear_refusal(db, tmp_path, data):
    assume(not _blank(data))  # an empty import is a valid (empty) import
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    before = event_count(db)
    import_refusal(invoke(db, "import", str(path)), str(path))
    assert event_count(db) == before


@FUZZ_STORE
@given(text=st.text(min_size=1, max_size=300))
def test_import_of_arbitrary_text_is_one_clear_refusal(db, tmp_path, text):
    assume(text.strip())
    path = tmp_path / "fuzz.jsonl"
    path.write_text(text, encoding="utf-8")
    before = event_count(db)
    import_refusal(invoke(db, "import", str(path)), str(path))
    assert event_count(db) == before


@FUZZ_STORE
@given(values=st.lists(json_values | near_valid_commands(), min_size=1, max_size=6),
       bad=json_values.filter(never_a_command), at=st.integers(0, 6))
def test_import_of_arbitrary_json_values_names_each_bad_line_and_stores_nothing(
        db, tmp_path, values, bad, at):
    values.insert(min(at, len(values)), bad)
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    before = event_count(db)
    rejected = import_refusal(invoke(db, "import", str(path)), str(path))
    must_be_named = {n for n, v in enumerate(values, 1) if never_a_command(v)}
    assert must_be_named <= set(rejected), rejected
    assert set(rejected) <= set(range(1, len(values) + 1))
    assert event_count(db) == before


@FUZZ_STORE
@given(commands=st.lists(near_valid_commands(), min_size=1, max_size=4))
def test_import_of_near_valid_commands_is_all_or_nothing(db, tmp_path, commands):
    path = tmp_path / "fuzz.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in commands), encoding="utf-8")
    before = event_count(db)
    result = invoke(db, "import", str(path))
    no_traceback(result)
    if result.exit_code == 0:
        assert result.stdout.strip().endswith(f"imported {len(commands)} commands from {path}")
        assert event_count(db) >= before + len(commands)
    else:
        rejected = import_refusal(result, str(path))
        assert set(rejected) <= set(range(1, len(commands) + 1))
        assert event_count(db) == before


# --- record -------------------------------------------------------------------------------------

field_text = st.text(max_size=30)


@FUZZ
@given(data=st.binary(max_size=300))
@example(data=b"\xff{}")
def test_record_with_a_data_file_of_arbitrary_bytes_is_one_clear_error(db, tmp_path, data):
    path = tmp_path / "data.json"
    path.write_bytes(data)
    before = event_count(db)
    one_clear_error(invoke(db, "record", "la.register", "--on", "2009-05-10",
                           "--by", "office@x.test", "--data", str(path)))
    assert event_count(db) == before


@FUZZ
@given(value=json_values, name=command_names)
def test_record_with_a_data_file_of_arbitrary_json_is_one_clear_error(db, tmp_path, value, name):
    # Never valid: not an object, or an object holding a field the command does not have.
    assume(not isinstance(value, dict) or set(value) - VOCABULARY[name] - {"cmd", "on", "by"})
    path = tmp_path / "data.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    before = event_count(db)
    one_clear_error(invoke(db, "record", name, "--on", "2009-06-01", "--by", "office@x.test",
                           "--data", str(path)))
    assert event_count(db) == before


@st.composite
def record_arguments(draw: st.DrawFn) -> list[str]:
    name = draw(command_names | st.text(max_size=20).filter(lambda s: not s.startswith("-")))
    args = [name, f"--on={draw(programme_days | field_text)}",
            f"--by={draw(emails | field_text)}"]
    # `--data` is record's option for a JSON file of fields: attainment data's own `data`
    # field goes in that file, never as a flag (click would look for a file of that name).
    fields = sorted(VOCABULARY.get(name, set()) - {"data"}) or ["la", "school", "name"]
    for field in draw(st.lists(st.sampled_from(fields), unique=True, max_size=6)):
        value = draw(st.sampled_from(["LA01", "T1", "x@y.test", "1", "trial"]) | field_text
                     | json_values.map(json.dumps))
        args.append(f"--{field}={value}")
    return args


@FUZZ
@given(args=record_arguments())
@example(args=["la.register", "--on=2009-02-30", "--by=o@x.test", "--la=LA02",
               "--name=N", "--contact=c@x.test"])
@example(args=["school.nominate", "--on=2009-05-21", "--by=o@x.test", "--school=T1",
               "--la=LA01", "--role=trial", "--name=\n"])
def test_record_with_fuzzed_fields_is_stored_or_one_clear_error(db, args):
    before = event_count(db)
    result = invoke(db, "record", *args)
    no_traceback(result)
    if result.exit_code == 0:
        assert result.stdout.startswith(f"recorded {args[0]} for "), describe(result)
        assert event_count(db) > before
    else:
        one_clear_error(result)
        assert event_count(db) == before


# --- the timeline loader ------------------------------------------------------------------------

REAL_TIMELINE = tl.DEFAULT_TIMELINE.read_text(encoding="utf-8")
REAL = yaml.safe_load(REAL_TIMELINE)


def problems_raised(path: Path) -> list[tl.Problem]:
    """engine.timeline.load on a file that must be refused: only TimelineError, each problem
    one line naming the file."""
    with pytest.raises(tl.TimelineError) as caught:
        tl.load(path, VOCABULARY)
    problems = caught.value.problems
    assert problems
    for problem in problems:
        shown = str(problem)
        assert len(lines_of(shown)) == 1 and "\r" not in shown, shown
        assert shown.startswith(str(path)), shown
    return problems


def check_refused(path: Path, result: Any = None) -> None:
    """`extramile timeline check FILE` on a bad file: each problem a line, then the count."""
    if result is None:
        result = invoke(None, "timeline", "check", str(path), user=None)
    assert result.exit_code == 1, describe(result)
    no_traceback(result)
    shown = lines_of(result.stderr)
    assert len(shown) >= 2, describe(result)
    n = len(shown) - 1
    assert shown[-1] == f"Error: {path}: {n} problem{'s' if n != 1 else ''}", describe(result)
    assert all(line.startswith(str(path)) for line in shown[:-1]), describe(result)


@FUZZ
@given(data=st.binary(max_size=400))
@example(data=b"\xef\xbb\xbfprogramme: x\n\xff")
@example(data=b"[" * 1200)
@example(data=b"starts: 2009-13-45\n")
@example(data=b"a: !!int x\n")
@example(data=b"a: \x00")
@example(data=b"? [a]\n: b\n")
@example(data=b'"a\\nb": 1\n')
def test_the_timeline_loader_refuses_arbitrary_bytes_clearly(tmp_path, data):
    path = tmp_path / "timeline.yaml"
    path.write_bytes(data)
    problems_raised(path)
    check_refused(path)


@FUZZ
@given(value=json_values)
def test_the_timeline_loader_refuses_arbitrary_json_clearly(tmp_path, value):
    path = tmp_path / "timeline.yaml"
    path.write_text(json.dumps(value), encoding="utf-8")  # JSON is YAML
    problems_raised(path)
    check_refused(path)


def _paths(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*at, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*at, i))
    return found


REAL_PATHS = _paths(REAL)


def _replace(doc: Any, at: tuple[Any, ...], value: Any) -> Any:
    if not at:
        return value
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[at[0]] = _replace(doc[at[0]], at[1:], value)
    return copy


@FUZZ_STORE
@given(at=st.sampled_from(REAL_PATHS), value=json_values | programme_days
       | st.sampled_from(["", "dcsf", "trial_school", "school.plan_submitted", -1, 10**30]))
def test_the_real_timeline_with_one_value_fuzzed_loads_or_is_refused_clearly(tmp_path, at,
                                                                            value):
    path = tmp_path / "timeline.yaml"
    path.write_text(yaml.safe_dump(_replace(REAL, at, value), sort_keys=False),
                    encoding="utf-8")
    result = invoke(None, "timeline", "check", str(path), user=None)
    if result.exit_code == 0:
        assert result.stdout.startswith(f"{path}: ok ("), describe(result)
        assert tl.load(path, VOCABULARY).obligations
    else:
        check_refused(path, result)
        problems_raised(path)


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    """Nested aliases expand to 9^8 nodes if walked naively; checking must stay quick."""
    letters = string.ascii_lowercase
    text = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{letters[i + 1]}: &{letters[i + 1]} [{', '.join([f'*{letters[i]}'] * 9)}]\n"
        for i in range(8))
    path = tmp_path / "timeline.yaml"
    path.write_text(text, encoding="utf-8")
    started = dt.datetime.now()
    problems_raised(path)
    assert (dt.datetime.now() - started).total_seconds() < 5


def test_a_bad_timeline_stops_every_store_command_and_creates_no_store(tmp_path):
    bad = tmp_path / "timeline.yaml"
    bad.write_bytes(b"programme: x\nstarts: \xff\n")
    db = tmp_path / "extramile.db"
    line = one_clear_error(invoke(db, "--timeline", str(bad), "init", "--admin", "a@x.test"))
    assert "timeline" in line and str(bad) in line
    assert not db.exists()
    init(db)
    before = event_count(db)
    line = one_clear_error(invoke(db, "--timeline", str(bad), "record", "la.register",
                                  "--on", "2009-05-10", "--by", "o@x.test", "--la", "LA01",
                                  "--name", "N", "--contact", "c@la01.test"))
    assert str(bad) in line
    assert event_count(db) == before


# --- the same guarantees from a real process ----------------------------------------------------

HOSTILE_IMPORTS = {
    "non_utf8": b"\xff\xfe\x00{\n",
    "nul_bytes": b"\x00\x00\x00\n",
    "json_scalars": b'1\n"two"\nnull\n[3]\n',
    "valid_then_garbage": (json.dumps(register("LA02")) + "\n{\"cmd\": \n").encode(),
    "cmd_with_newline": (json.dumps(register("LA03")) + "\n"
                         + json.dumps({"cmd": "la.\nregister", "on": "2009-05-10"})
                         + "\n").encode(),
    "nul_in_a_valid_command": (json.dumps(register("LA04")) + "\n"
                               + json.dumps({**register("LA05"), "name": "a\u0000b"})
                               + "\n").encode(),
}


@pytest.mark.parametrize("name", list(HOSTILE_IMPORTS))
def test_a_real_import_process_refuses_hostile_files_cleanly(store_url, tmp_path, name):
    init(store_url)
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(HOSTILE_IMPORTS[name])
    before = event_count(store_url)
    result = run_cli(store_url, "import", str(path))
    rejected = import_refusal(result, str(path))
    if name == "nul_in_a_valid_command":
        # PostgreSQL cannot store a NUL in text: every store refuses it alike, naming the field.
        assert rejected == [2]
        assert "field 'name': contains a NUL character" in result.stderr
    assert event_count(store_url) == before


@pytest.mark.parametrize("data", [b"\xff\xfe{}", b"[1, 2]", b'{"la": "LA09", "colour": 1}'],
                         ids=["non_utf8", "array", "unknown_field"])
def test_a_real_record_process_refuses_a_hostile_data_file_cleanly(tmp_path, data):
    db = tmp_path / "extramile.db"
    init(db)
    path = tmp_path / "data.json"
    path.write_bytes(data)
    before = event_count(db)
    one_clear_error(run_cli(db, "record", "la.register", "--on", "2009-05-10",
                            "--by", "o@x.test", "--data", str(path)))
    assert event_count(db) == before


@pytest.mark.parametrize("data", [b"\xff\xfe", b"[" * 1200, b"- 1\n- 2\n", b"starts: 2009-13-45"],
                         ids=["non_utf8", "deep", "a_list", "impossible_date"])
def test_a_real_timeline_check_process_refuses_a_hostile_file_cleanly(tmp_path, data):
    path = tmp_path / "timeline.yaml"
    path.write_bytes(data)
    result = run_cli(None, "timeline", "check", str(path), user=None)
    assert result.returncode == 1, describe(result)
    no_traceback(result)
    shown = lines_of(result.stderr)
    assert shown[-1].startswith(f"Error: {path}: ") and shown[-1].endswith(("problem",
                                                                            "problems"))
