"""The programme timeline (`config/timeline.yaml`): pydantic models, loading and checking.

Pure: reads one YAML file, knows nothing of storage. The command vocabulary it checks
`discharged_by` and `trigger` against is passed in (see `engine.commands.VOCABULARY`), so this
module depends on nothing else in the engine.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.errors import one_line

DEFAULT_TIMELINE = Path(__file__).resolve().parent.parent / "config" / "timeline.yaml"


class Party(StrEnum):
    DCSF = "dcsf"
    LA = "la"
    SCHOOL = "school"


class Per(StrEnum):
    """Whose instance an obligation is: one instance per subject of this kind."""

    PROGRAMME = "programme"
    LA = "la"
    SCHOOL = "school"
    TRIAL_SCHOOL = "trial_school"
    PARTNER_SCHOOL = "partner_school"
    SCHOOL_OR_LA = "school_or_la"


class Kind(StrEnum):
    DELIVERABLE = "deliverable"
    ATTENDANCE = "attendance"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Discharge(_Strict):
    command: str
    match: dict[str, str | int] = Field(default_factory=dict)

    def matches(self, command: str, fields: Mapping[str, Any]) -> bool:
        """True when a command of this name with these fields discharges the obligation."""
        return command == self.command and all(fields.get(k) == v for k, v in self.match.items())


class Obligation(_Strict):
    id: str
    title: str
    responsible: Party
    per: Per
    opens: dt.date | None = None
    due: dt.date | None = None
    trigger: tuple[str, ...] = ()
    due_days: int | None = Field(default=None, ge=0)
    discharged_by: Discharge
    kind: Kind
    handbook: str = ""
    annex: str = ""

    @property
    def relative(self) -> bool:
        return bool(self.trigger)

    def applies_to(self, kind: str, role: str | None) -> bool:
        """Whether a subject of this kind ('programme', 'la', 'school') and role owes it."""
        match self.per:
            case Per.PROGRAMME:
                return kind == "programme"
            case Per.LA:
                return kind == "la"
            case Per.SCHOOL:
                return kind == "school"
            case Per.TRIAL_SCHOOL:
                return kind == "school" and role == "trial"
            case Per.PARTNER_SCHOOL:
                return kind == "school" and role == "partner"
            case Per.SCHOOL_OR_LA:
                return kind in ("school", "la")
        return False  # pragma: no cover


class ReminderPolicy(_Strict):
    upcoming_days_before: tuple[int, ...] = (14, 3)
    overdue_first_after: int = Field(default=1, ge=1)
    overdue_every: int = Field(default=7, ge=1)
    escalate_after: int = Field(default=14, ge=0)
    run_at: dt.time = dt.time(6, 0)
    retry_minutes: int = Field(default=5, ge=1)
    retry_max_minutes: int = Field(default=360, ge=1)

    def retry_after(self, attempts: int) -> dt.timedelta:
        """Backoff before the next delivery attempt after `attempts` failed ones."""
        minutes = self.retry_minutes * 2 ** max(attempts - 1, 0)
        return dt.timedelta(minutes=min(minutes, self.retry_max_minutes))

    @field_validator("upcoming_days_before")
    @classmethod
    def _positive(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(d < 0 for d in v):
            raise ValueError("days before the due date must be 0 or more")
        return tuple(sorted(set(v), reverse=True))


class Funding(_Strict):
    trial: Decimal
    partner: Decimal
    la: Decimal


class Timeline(_Strict):
    programme: str
    timezone: str = "Europe/London"
    starts: dt.date
    ends: dt.date
    office_email: str
    funding: Funding
    reminders: ReminderPolicy = ReminderPolicy()
    obligations: tuple[Obligation, ...]

    @cached_property
    def by_id(self) -> dict[str, Obligation]:
        return {o.id: o for o in self.obligations}

    @cached_property
    def order(self) -> dict[str, int]:
        """Position of each obligation in the file: the handbook's order, used for sorting."""
        return {o.id: i for i, o in enumerate(self.obligations)}

    @cached_property
    def _by_command(self) -> dict[str, tuple[Obligation, ...]]:
        index: dict[str, list[Obligation]] = {}
        for o in self.obligations:
            index.setdefault(o.discharged_by.command, []).append(o)
        return {command: tuple(os) for command, os in index.items()}

    @cached_property
    def _by_trigger(self) -> dict[str, tuple[Obligation, ...]]:
        index: dict[str, list[Obligation]] = {}
        for o in self.obligations:
            for command in o.trigger:
                index.setdefault(command, []).append(o)
        return {command: tuple(os) for command, os in index.items()}

    def discharged_by(self, command: str, fields: Mapping[str, Any]) -> list[Obligation]:
        """The obligations a command with these fields discharges (in the file's order)."""
        return [o for o in self._by_command.get(command, ())
                if o.discharged_by.matches(command, fields)]

    def triggered_by(self, command: str) -> list[Obligation]:
        """The relative obligations a command opens (in the file's order)."""
        return list(self._by_trigger.get(command, ()))

    def allocation(self, kind: str, role: str | None) -> Decimal:
        """The funding allocation of a subject (handbook 2.4)."""
        if kind == "la":
            return self.funding.la
        return self.funding.partner if role == "partner" else self.funding.trial


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a timeline file, with where it is."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"
        return one_line(text)


class TimelineError(ValueError):
    """A timeline file that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def default_path() -> Path:
    """The timeline in force: EXTRAMILE_TIMELINE, else the bundled config/timeline.yaml."""
    return Path(os.environ.get("EXTRAMILE_TIMELINE") or DEFAULT_TIMELINE)


def load(
    path: Path | str | None = None, vocabulary: Mapping[str, set[str]] | None = None
) -> Timeline:
    """Load and check a timeline file; raise TimelineError listing every problem."""
    path = Path(path) if path else default_path()
    timeline, problems = check(path, vocabulary)
    if problems or timeline is None:
        raise TimelineError(problems)
    return timeline


def check(
    path: Path, vocabulary: Mapping[str, set[str]] | None = None
) -> tuple[Timeline | None, list[Problem]]:
    """Every problem in a timeline file, each with its line; the timeline when there are none."""
    name = str(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, None, "", f"cannot read: {exc.strerror or exc}")]
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw_bytes[:exc.start].count(b"\n") + 1
        return None, [Problem(name, line, "", f"not UTF-8 text: byte 0x{raw_bytes[exc.start]:02x} "
                                               f"at offset {exc.start}")]
    try:
        node, data = _parse(text)
    except yaml.YAMLError as exc:
        return None, [Problem(name, _yaml_error_line(exc, text), "",
                              f"not valid YAML: {_yaml_error_message(exc)}")]
    except RecursionError:
        return None, [Problem(name, None, "", "not usable YAML: nested too deeply")]
    except (ValueError, TypeError, OverflowError) as exc:  # a constructor's, past _Loader
        return None, [Problem(name, None, "", f"not usable YAML: {exc}")]
    if not isinstance(data, dict):
        return None, [Problem(name, 1, "", "expected a mapping with programme, obligations, ...")]
    try:
        lines = _line_index(node)
    except RecursionError:
        lines = {}
    problems: list[Problem] = []
    # Validate the header and each obligation on its own, so one bad entry hides no other.
    raw = data.get("obligations")
    try:
        header = Timeline.model_validate({**data, "obligations": []})
    except ValidationError as exc:
        header = None
        problems += [_pydantic_problem(name, lines, err) for err in exc.errors()]
    obligations: list[tuple[int, Obligation]] = []
    if not isinstance(raw, list) or not raw:
        problems.append(Problem(name, lines.get(("obligations",), 1), "obligations",
                                "expected a list of obligations"))
    else:
        for i, entry in enumerate(raw):
            try:
                obligations.append((i, Obligation.model_validate(entry)))
            except ValidationError as exc:
                problems += [_pydantic_problem(name, lines, err, ("obligations", i))
                             for err in exc.errors()]
                problems += [Problem(name, lines.get(at), where, message)
                             for at, where, message in _raw_problems(i, entry, vocabulary)]
    problems += [
        Problem(name, lines.get(path_), where, message)
        for path_, where, message in _rule_problems(header, obligations, vocabulary)
    ]
    if problems or header is None:
        return None, problems
    return header.model_copy(update={"obligations": tuple(o for _, o in obligations)}), []


def _rule_problems(
    t: Timeline | None,
    obligations: list[tuple[int, Obligation]],
    vocabulary: Mapping[str, set[str]] | None,
) -> list[tuple[tuple[Any, ...], str, str]]:
    found: list[tuple[tuple[Any, ...], str, str]] = []
    if t is not None and t.starts > t.ends:
        found.append((("starts",), "starts", "the programme starts after it ends"))
    seen: dict[str, int] = {}
    for i, o in obligations:
        at = ("obligations", i)
        where = f"obligation {o.id}"
        if o.id in seen:
            first = f"duplicate id (first at obligation #{seen[o.id] + 1})"
            found.append(((*at, "id"), where, first))
        seen.setdefault(o.id, i)
        if o.relative:
            if o.due_days is None or o.opens or o.due:
                found.append((at, where, "a relative obligation has trigger and due_days only"))
        elif o.opens is None or o.due is None or o.due_days is not None:
            found.append((at, where, "needs opens and due (or trigger and due_days)"))
        else:
            if o.opens > o.due:
                found.append(((*at, "opens"), where, f"opens {o.opens} after due {o.due}"))
            for key, day in (("opens", o.opens), ("due", o.due)):
                if t is not None and not t.starts <= day <= t.ends:
                    found.append(
                        ((*at, key), where, f"{key} {day} outside the programme "
                         f"({t.starts} to {t.ends})")
                    )
        if vocabulary is not None:
            found.extend(_vocabulary_problems(o, at, where, vocabulary))
    return found


def _raw_problems(
    i: int, entry: Any, vocabulary: Mapping[str, set[str]] | None
) -> list[tuple[tuple[Any, ...], str, str]]:
    """Rule checks on an obligation that did not validate, so its other problems show too."""
    if not isinstance(entry, dict):
        return []
    at, where = ("obligations", i), f"obligation {entry.get('id', i)}"
    found = []
    opens, due = entry.get("opens"), entry.get("due")
    if isinstance(opens, dt.date) and isinstance(due, dt.date) and opens > due:
        found.append(((*at, "opens"), where, f"opens {opens} after due {due}"))
    discharge = entry.get("discharged_by")
    command = discharge.get("command") if isinstance(discharge, dict) else None
    if vocabulary is not None and isinstance(command, str) and command not in vocabulary:
        found.append(((*at, "discharged_by"), where, f"unknown command {command!r}"))
    return found


def _vocabulary_problems(
    o: Obligation, at: tuple[Any, ...], where: str, vocabulary: Mapping[str, set[str]]
) -> list[tuple[tuple[Any, ...], str, str]]:
    found = []
    d = o.discharged_by
    if d.command not in vocabulary:
        found.append(((*at, "discharged_by"), where, f"unknown command {d.command!r}"))
    else:
        for field in d.match:
            if field not in vocabulary[d.command]:
                found.append(
                    ((*at, "discharged_by"), where, f"command {d.command} has no field {field!r}")
                )
    for command in o.trigger:
        if command not in vocabulary:
            found.append(((*at, "trigger"), where, f"unknown trigger command {command!r}"))
    return found


def _pydantic_problem(
    name: str, lines: dict[tuple[Any, ...], int], err: Any, prefix: tuple[Any, ...] = ()
) -> Problem:
    loc = (*prefix, *err["loc"])
    line = None
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            line = lines[loc[:n]]
            break
    where = ".".join(str(p) for p in loc)
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field"
    elif err["type"] == "enum":
        message = f"unknown value {err.get('input')!r}: {err['msg'].lower()}"
    return Problem(name, line, where, message)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader (libyaml's parser where installed: every command loads the timeline),
    reporting a value its constructors cannot build (a date 2009-13-45, `!!int x`) as a YAML
    error at that value, rather than a bare ValueError."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {str(value)[:40]!r}: {exc}", node.start_mark) from None


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (for line numbers) and the data built from it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _yaml_error_line(exc: yaml.YAMLError, text: str) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    position = getattr(exc, "position", None)  # a ReaderError (a forbidden character)
    return text[:position].count("\n") + 1 if isinstance(position, int) else None


def _yaml_error_message(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    if problem:
        return str(problem)
    if isinstance(exc, yaml.reader.ReaderError):
        return f"character #x{exc.character:04x} is not allowed in YAML"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _line_index(node: yaml.Node | None) -> dict[tuple[Any, ...], int]:
    """Map each path in the YAML document (keys and list indexes) to its 1-based line.

    An aliased node is indexed once, where it is defined: an alias is not walked again (a
    file of nested aliases would otherwise take exponential time).
    """
    index: dict[tuple[Any, ...], int] = {}
    seen: set[int] = set()

    def walk(n: yaml.Node, path: tuple[Any, ...]) -> None:
        index[path] = n.start_mark.line + 1
        if id(n) in seen:
            return
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                index[(*path, k.value)] = k.start_mark.line + 1
                walk(v, (*path, k.value))
                index[(*path, k.value)] = k.start_mark.line + 1
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, (*path, i))

    if node is not None:
        walk(node, ())
    return index
