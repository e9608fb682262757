"""A signed-in user of the engine (who records things), with a role."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate

from engine.aggregates.base import subject_id
from engine.errors import Rejected

ROLES = ("admin", "manager", "officer", "auditor", "coordinator")


class User(Aggregate):
    """A user's aggregate: added with a role, possibly revoked."""

    class Added(Aggregate.Created):
        email: str
        role: str
        la: str | None
        recorded_by: str

        def apply(self, user: User) -> None:
            user.email, user.role, user.la, user.revoked = self.email, self.role, self.la, False

    class Revoked(Aggregate.Event):
        recorded_by: str

        def apply(self, user: User) -> None:
            user.revoked = True

    @classmethod
    def add(cls, email: str, role: str, la: str | None, **meta: Any) -> User:
        if role not in ROLES:
            raise Rejected(f"unknown role {role!r} (one of {', '.join(ROLES)})")
        if role == "coordinator" and not la:
            raise Rejected("a coordinator needs --la")
        return cls._create(cls.Added, id=subject_id("user", email), email=email, role=role,
                           la=la, **meta)

    def revoke(self, **meta: Any) -> None:
        if self.revoked:
            raise Rejected(f"user {self.email} is already revoked")
        self.trigger_event(self.Revoked, **meta)
