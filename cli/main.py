"""The `extramile` command: a click group whose context opens the store on demand.

Entry points only convert arguments and delegate to engine.bootstrap; every user-facing failure
becomes one line on stderr and exit code 1 (click's own usage errors exit 2).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cli.logs import configure_logging, get_logger


class AppContext:
    """What every subcommand receives: options of the group, and the store once opened."""

    def __init__(self, db: str | None, user: str | None, timeline: str | None,
                 verbose: int = 0) -> None:
        self.db = db
        self.verbose = verbose
        self.user = user
        self.timeline = timeline
        self._store: Any = None

    @property
    def store(self) -> Any:
        """The store, opened on first use for a known, unrevoked user (reads included)."""
        if self._store is None:
            from engine.bootstrap import open_store

            user = self.require_user()
            store = open_store(self.db, self.timeline)
            try:
                store.app.require_user(user)
            except Exception:
                store.close()
                raise
            self._store = store
        return self._store

    @property
    def principal(self) -> Any:
        """The signed-in user with its role (the store checks it exists and is not revoked)."""
        return self.store.app.principal(self.require_user())

    def require(self, action: str, what: str | None = None) -> Any:
        """The principal, if its role allows `action`; Forbidden otherwise."""
        principal = self.principal
        principal.require(action, what)
        return principal

    def require_user(self) -> str:
        if not self.user:
            raise click.ClickException(
                "no user: set EXTRAMILE_USER or pass --as EMAIL (a user of the store)")
        return self.user.lower()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


class Group(click.Group):
    """Turns the engine's named errors into one clear line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from cli.errors import friendly
        from engine.errors import one_line

        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except click.ClickException as exc:
            exc.message = one_line(exc.message)
            raise
        except Exception as exc:  # the boundary: no traceback in front of a user
            from engine.application import UnknownUser
            from engine.permissions import Forbidden

            if isinstance(exc, Forbidden):
                get_logger().warning("permission.refused", user=exc.email, role=exc.role,
                                     command=ctx.invoked_subcommand, refused=exc.what)
            elif isinstance(exc, UnknownUser) and exc.signed_in:
                get_logger().warning("permission.refused", user=exc.email, role=None,
                                     command=ctx.invoked_subcommand,
                                     refused="unknown or revoked user")
            message = friendly(exc)
            if message is None:
                get_logger().exception("internal_error")
                message = f"internal error: {type(exc).__name__}: {exc}"
            raise click.ClickException(one_line(message)) from None


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"],
                                          "max_content_width": 100})
@click.option("--db", envvar="EXTRAMILE_DATABASE_URL", metavar="URL",
              help="Store: an SQLite file path or a SQLAlchemy URL "
                   "(postgresql+psycopg://...). Default ./extramile.db.")
@click.option("--as", "user", envvar="EXTRAMILE_USER", metavar="EMAIL",
              help="The signed-in user recording or reading (env EXTRAMILE_USER).")
@click.option("--timeline", envvar="EXTRAMILE_TIMELINE", metavar="FILE",
              help="Timeline file (default: the bundled config/timeline.yaml).")
@click.option("-v", "--verbose", count=True, help="More log detail on stderr (-vv for debug).")
@click.version_option(package_name="extramile")
@click.pass_context
def cli(ctx: click.Context, db: str | None, user: str | None, timeline: str | None,
        verbose: int) -> None:
    """Extra Mile: event-sourced compliance engine for the DCSF Extra Mile Phase II
    (primary) programme. Records submissions as immutable events and answers who owes
    what, as of any day."""
    configure_logging(verbose)
    app = AppContext(db, user, timeline, verbose)
    ctx.obj = app
    ctx.call_on_close(app.close)


def _register() -> None:
    from cli import db, demo, people, queries, records, reminders, serve, timeline_cmds, users

    for module in (records, queries, timeline_cmds, users, people, demo, reminders, serve, db):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli.main(prog_name="extramile", args=sys.argv[1:])
