"""Personal data: erasing one person (crypto-shredding)."""

from __future__ import annotations

import click

from cli.main import AppContext

pass_app = click.make_pass_decorator(AppContext)


@click.group()
def people() -> None:
    """People's personal data in the store."""


@people.command()
@click.argument("email")
@click.confirmation_option(prompt="Erase this person's data everywhere? This cannot be undone")
@pass_app
def forget(app: AppContext, email: str) -> None:
    """Erase EMAIL's personal data: their key is destroyed, so their address (and name, for an
    appointment) reads "[erased]" in every event, the audit and the read model; reminders are
    no longer sent to them.  The events stay as stored, so 'audit verify' still passes."""
    from cli.queries import resolve_as_of

    store = app.store
    had = store.forget(email, app.require_user(), resolve_as_of(app, None))
    click.echo(f"erased {email}" if had else f"{email} had no personal data in the store; "
               "recorded the request")


COMMANDS = [people]
