"""The eventsourcing application: executes batches of commands all-or-nothing.

Time is a parameter: the business date is in each command, and the moment of recording comes
from the injected clock (the event's timestamp is `recorded_at`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder

from engine import personal
from engine.aggregates.base import subject_id
from engine.aggregates.reminder import Reminder
from engine.aggregates.user import User
from engine.commands import Command
from engine.errors import Rejected, one_line
from engine.handlers import HANDLERS, UnitOfWork
from engine.permissions import Forbidden, Principal
from engine.persistence import APP_NAME, DateAsISO
from engine.timeline import Timeline

log = structlog.get_logger(__name__)

Clock = Callable[[], dt.datetime]
FLUSH_EVERY = 5000  # commands of a batch whose events are written before the next are read


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class LineError:
    """One rejected command of a batch."""

    line: int
    command: str
    reason: str

    def __str__(self) -> str:
        return one_line(f"line {self.line}: {self.command}: {self.reason}")


class BatchRejected(Rejected):
    """Some commands of a batch were rejected, so none of it was stored."""

    def __init__(self, errors: list[LineError]) -> None:
        self.errors = errors
        n = len(errors)
        super().__init__(f"{n} rejected line{'s' if n != 1 else ''}, nothing stored: "
                         + "; ".join(str(e) for e in errors[:3]) + ("; ..." if n > 3 else ""))


class UnknownUser(Rejected):
    def __init__(self, email: str, signed_in: bool = False) -> None:
        self.email = email
        self.signed_in = signed_in  # the one acting was refused (a permission refusal)
        super().__init__(f"unknown or revoked user {email!r}: ask an admin to add you "
                         "(extramile users add)")


class ExtraMile(Application):
    """The Extra Mile engine's write side."""

    name = APP_NAME

    def __init__(self, env: dict[str, str], timeline: Timeline, clock: Clock = utc_now) -> None:
        super().__init__(env)
        self.timeline = timeline
        self.clock = clock

    @property
    def events_table(self) -> Any:
        return self.recorder.events_record_cls.__table__  # type: ignore[attr-defined]

    def construct_transcoder(self) -> Any:
        """JSON, with people's addresses encrypted per person (engine.personal)."""
        engine = self.factory.datastore.engine  # type: ignore[attr-defined]
        personal.metadata.create_all(engine)
        self.keyring = personal.Keyring(engine)
        transcoder = personal.PersonalDataTranscoder(self.keyring)
        self.register_transcodings(transcoder)
        return transcoder

    def _record(self, processing_event: Any) -> Any:
        """Store events and extend the hash chain over them in one transaction."""
        from engine import chain

        recorded = {(str(e.originator_id), e.originator_version): e.timestamp
                    for e in processing_event.events}
        with self._transaction() as session:
            # Keys first, in the same transaction, so encoding needs no write of its own.
            self.keyring.ensure(personal.people_in(processing_event.events), session)
            recordings = super()._record(processing_event)
            chain.extend(session, recordings, recorded)
        return recordings

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    # --- users --------------------------------------------------------------------------------

    def user(self, email: str) -> User | None:
        try:
            return self.repository.get(subject_id("user", email.lower()))
        except AggregateNotFoundError:
            return None

    def require_user(self, email: str | None) -> User:
        user = self.user(email) if email else None
        if user is None or user.revoked:
            raise UnknownUser(email or "", signed_in=True)
        return user

    def principal(self, email: str | None) -> Principal:
        """The signed-in user with its role (UnknownUser if unknown or revoked)."""
        user = self.require_user(email)
        return Principal(user.email, user.role, user.la)

    def add_user(self, email: str, role: str, la: str | None, added_by: str) -> User:
        """Register a user (the first one, by `init`, adds itself)."""
        email = email.lower()
        if self.user(email) is not None:
            raise Rejected(f"user {email} already exists")
        user = User.add(email, role, la, recorded_by=added_by, timestamp=self.clock())
        self.save(user)
        return user

    def revoke_user(self, email: str, revoked_by: str) -> None:
        user = self.user(email)
        if user is None:
            raise UnknownUser(email)
        if user.email == revoked_by.lower():
            raise Rejected("you cannot revoke yourself")
        user.revoke(recorded_by=revoked_by, timestamp=self.clock())
        self.save(user)

    # --- commands -----------------------------------------------------------------------------

    def execute(
        self,
        commands: Iterable[tuple[int, Command] | LineError],
        recorded_by: str,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Apply numbered commands all-or-nothing; return how many were stored.

        Every rejected command is collected (a later one may be rejected because an earlier
        one was), and so is every LineError among `commands` (a line that was not a command);
        if there is any, nothing is stored and BatchRejected lists them all in line order.

        The batch is one database transaction. While every command passes, its events are
        written every FLUSH_EVERY commands and dropped from memory, so a file of any size
        needs memory for its aggregates' state only; the commit at the end stores it whole.
        """
        principal = self.principal(recorded_by)
        uow = UnitOfWork(self.repository.get, self.timeline)
        now = self.clock()
        errors: list[LineError] = []
        count = 0
        with self._transaction():
            for item in commands:
                if isinstance(item, LineError):
                    errors.append(item)
                else:
                    line, command = item
                    count += 1
                    error = self._apply(uow, principal, line, command, now)
                    if error is not None:
                        errors.append(error)
                    elif not errors and count % FLUSH_EVERY == 0:
                        self._flush(uow)
                if progress is not None:
                    progress(1)
            if errors:
                uow.discard()
                raise BatchRejected(errors)
            self._flush(uow)
        return count

    def _apply(self, uow: UnitOfWork, principal: Principal, line: int, command: Command,
               now: dt.datetime) -> LineError | None:
        """Check and apply one command to the unit of work; the LineError if it is refused."""
        meta = {"on": command.on, "by": command.by, "recorded_by": principal.email,
                "timestamp": now}
        try:
            principal.check_command(command)
            HANDLERS[command.cmd](uow, command, meta)
        except Forbidden as exc:
            log.warning("permission.refused", user=exc.email, role=exc.role,
                        command=command.cmd, line=line)
            return LineError(line, command.cmd, str(exc))
        except Rejected as exc:
            return LineError(line, command.cmd, str(exc))
        return None

    def _flush(self, uow: UnitOfWork) -> None:
        """Write the unit of work's pending events into the open transaction."""
        changed = uow.changed()
        if changed:
            self.save(*changed)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """The recorder's transaction (joined, if one is open). People's keys created in it
        are forgotten by the keyring if it rolls back, so no event is ever encrypted with a
        key that was not stored."""
        try:
            with self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
                yield session
        except BaseException:
            self.keyring.clear_cache()
            raise

    def record_reminders(self, planned: list[Any], recorded_by: str,
                         deliver: bool) -> list[Any]:
        """Record issued reminders with their emails; return those recorded.

        Each identity can be stored once only: if another run recorded some first, the batch
        fails as a whole and is retried one by one, skipping those (so nothing is issued twice).
        """
        from engine.schedule.mail import compose

        now = self.clock()

        def build(p: Any) -> Reminder:
            return Reminder.issue(p.obligation, p.subject, p.kind, p.scheduled_for, due=p.due,
                                  run_on=p.date, to=p.to, cc=p.cc, recorded_by=recorded_by,
                                  deliver=deliver, timestamp=now,
                                  **compose(p, self.timeline, p.context))

        try:
            self.save(*(build(p) for p in planned))
            return planned
        except IntegrityError:
            recorded = []
            for p in planned:
                try:
                    self.save(build(p))
                    recorded.append(p)
                except IntegrityError:
                    continue
            return recorded

    def events_of(self, aggregate_id: Any) -> list[Any]:
        """Every stored event of one aggregate, oldest first."""
        return list(self.events.get(aggregate_id))
