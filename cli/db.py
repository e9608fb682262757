"""The store itself: check its schema, upgrade it, copy it elsewhere."""

from __future__ import annotations

from typing import Any

import click

from cli.main import AppContext
from cli.progress import progress_bar

pass_app = click.make_pass_decorator(AppContext)


@click.group()
def db() -> None:
    """Manage the store: schema check and upgrade, copying to another database."""


@db.command()
@pass_app
def check(app: AppContext) -> None:
    """Say whether the store's read model is at this engine's schema revision (exit 1 if not)."""
    from engine import schema
    from engine.bootstrap import open_store

    with open_store(app.db, app.timeline, upgrading=True) as store:
        found, needed = schema.current(store.engine), schema.HEAD
        events = store.app.recorder.max_notification_id() or 0
    if found != needed:
        raise click.ClickException(f"read model at revision {found or 'none'}, needs {needed}: "
                                   "run 'extramile db upgrade'")
    click.echo(f"store is current (revision {needed}, {events} events)")


@db.command()
@pass_app
def upgrade(app: AppContext) -> None:
    """Migrate the read-model tables to this engine's revision and bring them up to date from
    the events (stored events are not touched)."""
    from engine import schema
    from engine.bootstrap import open_store

    with open_store(app.db, app.timeline, upgrading=True) as store:
        store.app.principal(app.require_user()).require("database", "upgrade the store")
        before = schema.current(store.engine)
        schema.upgrade(store.engine)
        _chain_history(store)
        store.projector.create()
        total = store.app.recorder.max_notification_id() or 0
        with progress_bar(total, "replaying") as advance:
            store.projector.catch_up(progress=advance)
        click.echo(f"read model upgraded from revision {before or 'none'} to {schema.HEAD}")


def _chain_history(store: Any) -> None:
    """A store from before the audit chain: chain its history as it stands now."""
    from engine import chain

    if store.verify_chain().events == 0 and (store.app.recorder.max_notification_id() or 0):
        count = chain.rebuild(store.engine, store.app.events_table)
        click.echo(f"chained {count} existing events (audit verify covers them from now on)")


@db.command()
@click.option("--to", "target_url", required=True, metavar="URL",
              help="The target database (SQLAlchemy URL or SQLite path); it must be empty.")
@pass_app
def copy(app: AppContext, target_url: str) -> None:
    """Copy the whole store (every event in order: submissions, users, reminder ledger) to
    another database and verify the copy.  Refuses a target that already holds a store.

    Example: extramile db copy --to postgresql+psycopg://extramile@dbhost/extramile
    """
    from engine import chain
    from engine.bootstrap import Store, StoreExists
    from engine.copying import check_days, copy_events, verify
    from engine.persistence import database_url, describe, store_exists

    app.require("database", "copy the store")
    source = app.store
    resolved = database_url(target_url)
    if store_exists(resolved):
        raise StoreExists(resolved)
    total = source.app.recorder.max_notification_id() or 0
    if source.verify_chain().broken is not None:
        raise click.ClickException("the source's audit chain is broken (extramile audit "
                                   "verify): refusing to copy it")
    with Store(resolved, source.timeline, source.app.clock, create=True) as target:
        with progress_bar(total, "copying") as advance:
            copied = copy_events(source, target, progress=advance)
        chain.rebuild(target.engine, target.app.events_table)
        target.projector.catch_up()
        verify(source, target, check_days(source))
    click.echo(f"copied {copied} events to {describe(resolved)} and verified the copy")


COMMANDS = [db]
