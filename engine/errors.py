"""Named domain errors. Each carries its facts and builds one clear message.

The CLI turns any `Rejected` into one line on stderr and exit code 1.
"""

from __future__ import annotations

import datetime as dt
import re

# Characters str.splitlines() breaks on: a message for the user always stays on one line.
_LINE_BREAKS = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` with every line break shown escaped (as repr would), so it stays one line."""
    return _LINE_BREAKS.sub(lambda m: repr(m.group())[1:-1], text)


class Rejected(ValueError):
    """A command the programme's rules do not allow. Nothing was recorded."""


class UnknownSubject(Rejected, LookupError):
    def __init__(self, kind: str, subject: str) -> None:
        self.kind, self.subject = kind, subject
        super().__init__(f"unknown {kind} {subject!r}")


class AlreadyExists(Rejected):
    def __init__(self, kind: str, subject: str, on: dt.date) -> None:
        super().__init__(f"{kind} {subject!r} already exists (since {on})")


class AlreadyRecorded(Rejected):
    """A submission or fact that was recorded before."""

    def __init__(self, what: str, subject: str, on: dt.date, by: str, more: str = "") -> None:
        self.first_on, self.first_by = on, by
        super().__init__(f"{what} for {subject} was already recorded on {on} by {by}{more}")


class DatedTooEarly(Rejected):
    def __init__(self, subject: str, on: dt.date, earliest: dt.date, why: str) -> None:
        super().__init__(f"{subject}: dated {on}, before {why} on {earliest}")


class SubjectWithdrawn(Rejected):
    def __init__(self, subject: str, withdrawn_on: dt.date, on: dt.date) -> None:
        super().__init__(f"{subject} was withdrawn on {withdrawn_on}: nothing may be recorded "
                         f"for it after that date (dated {on})")


class WrongStage(Rejected):
    def __init__(self, subject: str, action: str, stage: str, allowed: str) -> None:
        self.stage = stage
        super().__init__(f"{subject} cannot {action} at stage {stage!r} (needs {allowed})")


class WrongRole(Rejected):
    def __init__(self, subject: str, role: str, action: str) -> None:
        super().__init__(f"{subject} is a {role} school: {action} is for trial schools only")


class ClusterFull(Rejected):
    def __init__(self, la: str, role: str, limit: int) -> None:
        super().__init__(f"{la} already has {limit} active {role} school"
                         f"{'s' if limit != 1 else ''}")


class ClusterIncomplete(Rejected):
    def __init__(self, la: str, on: dt.date, trial: int, partner: int) -> None:
        super().__init__(f"{la} has {trial} active trial and {partner} active partner schools "
                         f"nominated on or before {on}; the form needs exactly 4 and 1")


class NotInCluster(Rejected):
    def __init__(self, school: str, la: str) -> None:
        super().__init__(f"{school} is not a school of {la}")


class OverAllocation(Rejected):
    def __init__(self, subject: str, planned: object, allocation: object,
                 what: str = "plan funding") -> None:
        super().__init__(f"{subject}: {what} £{planned} exceeds the allocation £{allocation}")


class ObligationRejected(Rejected):
    """An extension or waiver that does not fit the obligation instance."""
