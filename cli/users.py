"""Users of the engine: who may record and read."""

from __future__ import annotations

import click

from cli.main import AppContext
from cli.output import emit_rows, format_option

pass_app = click.make_pass_decorator(AppContext)


@click.group()
def users() -> None:
    """Add and list the engine's users (recorded as events)."""


@users.command()
@click.argument("email")
@click.option("--role", required=True,
              type=click.Choice(["admin", "manager", "officer", "auditor", "coordinator"]),
              help="What the user may do.")
@click.option("--la", metavar="ID", help="The LA of a coordinator.")
@pass_app
def add(app: AppContext, email: str, role: str, la: str | None) -> None:
    """Add a user.  Example: extramile users add officer@dcsf.test --role officer"""
    app.store.add_user(email, role, la, app.require_user())
    click.echo(f"added {email.lower()} as {role}")


@users.command("list")
@format_option()
@pass_app
def list_(app: AppContext, fmt: str) -> None:
    """List users and their roles."""
    app.require("list-users", "list users")
    emit_rows(app.store.queries.users(), fmt, ["email", "role", "la", "revoked"], title="Users")


@users.command()
@click.argument("email")
@pass_app
def revoke(app: AppContext, email: str) -> None:
    """Revoke a user: refused for every read and write from then on."""
    app.store.revoke_user(email, app.require_user())
    click.echo(f"revoked {email.lower()}")


@users.command()
@click.argument("email")
@pass_app
def token(app: AppContext, email: str) -> None:
    """Print EMAIL's token for the web app (stops working if the user is revoked)."""
    from engine.web import issue_token

    app.require("users", "issue tokens")
    click.echo(issue_token(app.store, email))


COMMANDS = [users]
