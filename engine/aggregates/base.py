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

from engine.errors import AlreadyRecorded, DatedTooEarly, Rejected

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
        """A new due date for one obligation of this subject.

        Version 2 renamed `due` to `new_due` and added `previous_due`, the due date in force
        that the extension replaced (None for events stored before version 2: not recorded
        then). Stored events are never rewritten; older ones are upcast as they load.
        """

        command = "dcsf.extension_granted"
        unique = False
        class_version = 2
        obligation: str
        new_due: dt.date
        previous_due: dt.date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["new_due"] = state.pop("due")
            state["previous_due"] = None

        def apply(self, subject: Subject) -> None:
            subject.extensions.setdefault(self.obligation, []).append((self.on, self.new_due))

    class ObligationWaived(Recorded):
        command = "dcsf.obligation_waived"
        key_fields = ("obligation",)
        obligation: str
        reason: str

        def apply(self, subject: Subject) -> None:
            subject.remember(self)
            subject.waivers[self.obligation] = self.on

    class SubmissionRetracted(Recorded):
        """A mistaken submission undone: the obligation is open again (the fact stays in the
        log; this event says it no longer counts from `on`)."""

        command, unique = "dcsf.submission_retracted", False
        obligation: str
        retracted_command: str
        fields: dict
        reason: str
        stage: str | None  # the stage a school returns to, for a lifecycle step

        def apply(self, subject: Subject) -> None:
            key = fact_key(self.retracted_command, self.fields)
            del subject.seen[key]
            subject.retracted[key] = self.on

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
        self.retracted: dict[str, dt.date] = {}

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
        found = self._discharge_key(command, match)
        return self.seen[found] if found else None

    def _discharge_key(self, command: str, match: dict[str, Any]) -> str | None:
        prefix = command + "|"
        for key, seen in self.seen.items():
            if (key == command or key.startswith(prefix)) and all(
                dict(seen.fields).get(k) == v for k, v in match.items()
            ):
                return key
        return None

    @classmethod
    def event_class_for(cls, command: str) -> type[Subject.Recorded] | None:
        """The event class of this subject that records `command`."""
        for value in vars(cls).values():
            if (isinstance(value, type) and issubclass(value, Subject.Recorded)
                    and value.command == command):
                return value
        return None

    # --- actions common to every subject ---------------------------------------------------------

    def grant_extension(self, obligation: str, due: dt.date, in_force: dt.date,
                        **meta: Any) -> None:
        """Move `obligation`'s due date from `in_force` (the date in force today) to `due`."""
        self.record(self.ExtensionGranted, obligation=obligation, new_due=due,
                    previous_due=in_force, **meta)

    def waive(self, obligation: str, reason: str, **meta: Any) -> None:
        self.record(self.ObligationWaived, obligation=obligation, reason=reason, **meta)

    def retract(self, obligation: str, command: str, match: dict[str, Any], reason: str,
                **meta: Any) -> None:
        """Undo the submission that discharged `obligation` (done with `command`)."""
        on = meta["on"]
        self.check_dated(on)
        key = self._discharge_key(command, match)
        event_class = self.event_class_for(command)
        if key is None or event_class is None:
            raise Rejected(f"{obligation} for {self.natural_id}: no submission to retract")
        if not event_class.unique:
            raise Rejected(f"{command} is not retracted: a later one replaces it")
        first = self.seen[key]
        if on < first.on:
            raise DatedTooEarly(self.natural_id, on, first.on, f"the {command} it retracts")
        self.check_retractable(event_class)
        fields = dict(first.fields)
        self.trigger_event(self.SubmissionRetracted, obligation=obligation,
                           retracted_command=command, fields=fields, reason=reason,
                           stage=self.stage_after_retracting(event_class), **meta)

    def check_retractable(self, event_class: type[Subject.Recorded]) -> None:
        """Refuse when a later step depends on the submission (subclasses say which)."""

    def check_after_retraction(self, event_class: type[Subject.Recorded],
                               kwargs: dict[str, Any]) -> None:
        """A submission made again after a retraction is dated on or after the retraction."""
        key = fact_key(event_class.command, _fields(event_class, kwargs))
        retracted = self.retracted.get(key)
        if retracted is not None and kwargs["on"] < retracted:
            raise DatedTooEarly(self.natural_id, kwargs["on"], retracted,
                                f"the retraction of the earlier {event_class.command}")

    def stage_after_retracting(self, event_class: type[Subject.Recorded]) -> str | None:
        return None

    def record(self, event_class: type[Subject.Recorded], **kwargs: Any) -> None:
        """Record a fact after the common guards: dated after registration, not twice, not
        before a retraction of the same fact."""
        self.check_dated(kwargs["on"])
        self.check_after_retraction(event_class, kwargs)
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


def _fields(event_class: type[Subject.Recorded], kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs[k] for k in event_class.key_fields}


def in_post(appointments: list[tuple[dt.date, str, str]], day: dt.date) -> tuple[str, str] | None:
    """(name, email) of the latest appointment dated on or before `day`."""
    current = [a for a in appointments if a[0] <= day]
    if not current:
        return None
    _, name, email = max(current, key=lambda a: a[0])
    return name, email
