"""One clear line for each kind of failure a user can cause."""

from __future__ import annotations


def friendly(exc: BaseException) -> str | None:
    """The message to show for an expected failure, or None for a bug."""
    from engine.commands import CommandError
    from engine.errors import Rejected
    from engine.timeline import TimelineError

    if isinstance(exc, Rejected | CommandError):
        return str(exc)
    if isinstance(exc, TimelineError):
        return f"timeline: {exc.problems[0]}" + (
            f" (and {len(exc.problems) - 1} more problems)" if len(exc.problems) > 1 else "")
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    name = type(exc).__name__
    if name in ("OperationalError", "DatabaseError", "InterfaceError", "ProgrammingError"):
        detail = str(exc).splitlines()[0] if str(exc) else name
        if any(marker in detail for marker in CONNECTION_LOST):
            # Lost mid-session, perhaps during the commit itself: nobody can tell whether a
            # write landed, so the user is told how to find out before trying again.
            detail += ("; if this command was writing, it may or may not have been stored: "
                       "check with 'extramile audit SUBJECT' before running it again")
        return f"database error: {detail}"
    return None


# How drivers report a connection that went away during a session (not one never made).
CONNECTION_LOST = ("server closed the connection", "connection is lost",
                   "terminating connection", "connection already closed",
                   "consuming input failed")
