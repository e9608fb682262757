"""What every subject of the programme (programme, LA, school) has in common.

A subject remembers the facts recorded about it (submissions, visits, attendance...) keyed by
command and discriminating fields, so a duplicate is refused naming the first; and the
extensions and waivers granted on its obligations. Guards raise before any event is triggered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from engine.errors import AlreadyRecorded, DatedTooEarly

NAMESPACE = uuid5(NAMESPACE_URL, "https://extramile.dcsf.test/subjects")


def subject_id(kind: str, natural_id: str) -> UUID:
    """Deterministic aggregate id of a subject (or user, reminder) from its natural id."""
    return uuid5(NAMESPACE, f"{kind}:{natural_id}")


@dataclass(frozen=True, slots=True)
class Seen:
    """A recorded fact as a subject remembers it."""

    on: dt.date
    by: str
    fields: tuple[tuple[str, Any], ...]


class Subject(Aggregate):
    """Base aggregate: registration date, remembered facts, extensions and waivers."""

    class Recorded(Aggregate.Event):
        """Base of every event that records something done: on a business date, by someone,
        recorded by a signed-in user (the event's timestamp is when it was recorded)."""

        on: dt.date
        by: str
        recorded_by: str

        command: ClassVar[str] = ""
        # Fields that tell two facts of the same command apart (e.g. a survey's round).
        key_fields: ClassVar[tuple[str, ...]] = ()
        # Whether a second identical fact is refused (appointments may be repeated).
        unique: ClassVar[bool] = True

        def apply(self, subject: Subject) -> None:
            subject.remember(self)

        def key(self) -> str:
            return fact_key(self.command, {k: getattr(self, k) for k in self.key_fields})


    class ExtensionGranted(Recorded):
        command = "dcsf.extension_granted"
        unique = False
        obligation: str
        due: dt.date

        def apply(self, subject: Subject) -> None:
            subject.extensions.setdefault(self.obligation, []).append((self.on, self.due))

    class ObligationWaived(Recorded):
        command = "dcsf.obligation_waived"
        key_fields = ("obligation",)
        obligation: str
        reason: str

        def apply(self, subject: Subject) -> None:
            subject.remember(self)
            subject.waivers[self.obligation] = self.on

    class Registered(Aggregate.Created):
        """Base of every creation event: the subject exists from `on`."""

        on: dt.date
        by: str
        recorded_by: str

    def start(self, natural_id: str, on: dt.date) -> None:
        """Initial state, called by each creation event's apply()."""
        self.natural_id = natural_id
        self.registered_on = on
        self.seen: dict[str, Seen] = {}
        self.extensions: dict[str, list[tuple[dt.date, dt.date]]] = {}
        self.waivers: dict[str, dt.date] = {}

    def remember(self, event: Subject.Recorded) -> None:
        """Keep the first fact of each key (by date, for repeatable ones like appointments)."""
        key = event.key()
        prior = self.seen.get(key)
        if prior is None or event.on < prior.on:
            fields = tuple((k, getattr(event, k)) for k in event.key_fields)
            self.seen[key] = Seen(event.on, event.by, fields)

    # --- guards -------------------------------------------------------------------------------

    def check_dated(self, on: dt.date) -> None:
        """Every command is dated on or after its subject's registration/nomination."""
        if on < self.registered_on:
            raise DatedTooEarly(self.natural_id, on, self.registered_on, "its registration")

    def first(self, command: str, **key: Any) -> Seen | None:
        return self.seen.get(fact_key(command, key))

    def discharge_of(self, command: str, match: dict[str, Any]) -> Seen | None:
        """The recorded fact (if any) of this command whose fields include `match`."""
        prefix = command + "|"
        for key, seen in self.seen.items():
            if (key == command or key.startswith(prefix)) and all(
                dict(seen.fields).get(k) == v for k, v in match.items()
            ):
                return seen
        return None

    # --- actions common to every subject ---------------------------------------------------------

    def grant_extension(self, obligation: str, due: dt.date, **meta: Any) -> None:
        self.record(self.ExtensionGranted, obligation=obligation, due=due, **meta)

    def waive(self, obligation: str, reason: str, **meta: Any) -> None:
        self.record(self.ObligationWaived, obligation=obligation, reason=reason, **meta)

    def record(self, event_class: type[Subject.Recorded], **kwargs: Any) -> None:
        """Record a fact after the common guards: dated after registration, not twice."""
        self.check_dated(kwargs["on"])
        if event_class.unique:
            key = {k: kwargs[k] for k in event_class.key_fields}
            first = self.seen.get(fact_key(event_class.command, key))
            if first is not None:
                what = " ".join([event_class.command, *(f"{k}={v}" for k, v in key.items())])
                raise AlreadyRecorded(what, self.natural_id, first.on, first.by)
        self.trigger_event(event_class, **kwargs)


ENVELOPE = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp",
                      "on", "by", "recorded_by"})


def content(event: Aggregate.Event) -> dict[str, Any]:
    """An event's own facts: everything but the envelope and on/by/recorded_by."""
    return {k: v for k, v in event.__dict__.items() if k not in ENVELOPE}


def fact_key(command: str, key: dict[str, Any]) -> str:
    if not key:
        return command
    return command + "|" + "|".join(f"{k}={key[k]}" for k in sorted(key))


def in_post(appointments: list[tuple[dt.date, str, str]], day: dt.date) -> tuple[str, str] | None:
    """(name, email) of the latest appointment dated on or before `day`."""
    current = [a for a in appointments if a[0] <= day]
    if not current:
        return None
    _, name, email = max(current, key=lambda a: a[0])
    return name, email
