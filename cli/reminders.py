"""Reminders: the daily run (remind) and the day-by-day replay of a range (simulate)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from cli.main import AppContext
from cli.output import emit_rows, format_option
from cli.progress import progress_bar
from cli.queries import DATE, as_of_option, resolve_as_of

pass_app = click.make_pass_decorator(AppContext)

COLUMNS = ["date", "obligation", "subject", "kind", "scheduled_for", "due", "to", "cc"]


def _emit(planned: list[Any], fmt: str, title: str) -> None:
    rows = [p.as_dict() for p in planned]
    if fmt == "table":
        rows = [{**r, "to": ", ".join(r["to"]), "cc": ", ".join(r["cc"])} for r in rows]
    emit_rows(rows, fmt, COLUMNS, title=title)


@click.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show what would be issued; record nothing.")
@format_option()
@pass_app
def remind(app: AppContext, as_of: dt.datetime | None, dry_run: bool, fmt: str) -> None:
    """Issue the day's reminders, each exactly once (a second run issues nothing).

    Example: extramile remind --as-of 2010-02-15 --format json
    """
    day = resolve_as_of(app, as_of)
    planned = app.store.remind(day, app.require_user(), dry_run=dry_run)
    verb = "would issue" if dry_run else "issued"
    _emit(planned, fmt, f"Reminders {verb} on {day}: {len(planned)}")


@click.command()
@click.option("--from", "first", type=DATE, required=True, metavar="YYYY-MM-DD",
              help="First day of the run.")
@click.option("--to", "last", type=DATE, required=True, metavar="YYYY-MM-DD",
              help="Last day of the run.")
@click.option("--dry-run", is_flag=True, help="Show what would be issued; record nothing.")
@format_option()
@pass_app
def simulate(app: AppContext, first: dt.datetime, last: dt.datetime, dry_run: bool,
             fmt: str) -> None:
    """Run the reminders day by day over a range, as the scheduler would have, against the
    state as of each day.  Issued reminders are recorded (a second run issues nothing) but
    not sent: backfilling history never floods anyone.

    Example: extramile simulate --from 2009-05-01 --to 2010-09-30 --format json
    """
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    days = (last.date() - first.date()).days + 1
    with progress_bar(days * 10, "simulating") as advance:
        planned = app.store.simulate(first.date(), last.date(), app.require_user(),
                                     dry_run=dry_run, progress=lambda n: advance(10 * n))
    verb = "would issue" if dry_run else "issued"
    _emit(planned, fmt, f"Reminders {verb} from {first.date()} to {last.date()}: {len(planned)}")



COMMANDS = [remind, simulate]
