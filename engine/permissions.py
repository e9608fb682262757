"""Who may do what: the five roles of the engine's users.

admin: everything, including users.  manager: records anything, including extensions, waivers,
account closures and retractions.  officer: records submissions and facts, but none of those
four.  auditor: reads everything, writes nothing.  coordinator: reads only its own LA (its
schools, its LA obligations) and records only LA commands for its own LA.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import Rejected

OFFICE_ONLY = frozenset({"dcsf.extension_granted", "dcsf.obligation_waived",
                         "dcsf.account_closed", "dcsf.submission_retracted"})
RECORDERS = frozenset({"admin", "manager", "officer"})

# Actions other than recording commands, and the roles allowed them.
ACTIONS = {
    "read": frozenset({"admin", "manager", "officer", "auditor", "coordinator"}),
    "remind": RECORDERS,  # issue and send reminders
    "rebuild": frozenset({"admin", "manager"}),
    "users": frozenset({"admin"}),
    "list-users": frozenset({"admin", "manager", "auditor"}),
    "database": frozenset({"admin"}),  # db upgrade, db copy
}


class Forbidden(Rejected):
    """The signed-in user's role does not allow this."""

    def __init__(self, email: str, role: str, what: str) -> None:
        self.email, self.role, self.what = email, role, what
        super().__init__(f"{email} ({role}) may not {what}")


@dataclass(frozen=True)
class Principal:
    """The signed-in user as the rules see it."""

    email: str
    role: str
    la: str | None = None

    @property
    def la_scope(self) -> str | None:
        """The one LA a coordinator sees; None for everyone else (they see all)."""
        return self.la if self.role == "coordinator" else None

    def require(self, action: str, what: str | None = None) -> None:
        if self.role not in ACTIONS[action]:
            raise Forbidden(self.email, self.role, what or action)

    def check_command(self, command: Any) -> None:
        """May this user record this command?"""
        name = command.cmd
        if self.role in ("admin", "manager"):
            return
        if self.role == "officer" and name not in OFFICE_ONLY:
            return
        if self.role == "coordinator" and name.startswith("la.") and command.la == self.la:
            return
        raise Forbidden(self.email, self.role, f"record {name}"
                        + (f" for {command.about}" if self.role == "coordinator" else ""))

    def check_subject(self, subject: dict[str, Any]) -> None:
        """May this user read about this subject (a row of the subjects table)?"""
        scope = self.la_scope
        if scope is not None and subject.get("la") != scope:
            raise Forbidden(self.email, self.role, f"read about {subject['subject']} "
                            f"(outside {scope})")
