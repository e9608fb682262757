"""Reminders: the daily run (remind), replaying a range (simulate), delivery and the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from cli.logs import get_logger
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


def _deliver(app: AppContext, ignore_backoff: bool) -> Any:
    report = app.store.outbox().deliver(ignore_backoff=ignore_backoff)
    get_logger().info("deliver.done", sent=report.sent, failed=report.failed,
                      skipped=report.skipped)
    if report.failed:
        click.echo(f"{report.failed} reminder(s) could not be delivered; they stay pending and "
                   "are retried (see: extramile reminders --failed)", err=True)
    return report


@click.command()
@as_of_option
@click.option("--dry-run", is_flag=True, help="Show what would be issued; record and send nothing.")
@format_option()
@pass_app
def remind(app: AppContext, as_of: dt.datetime | None, dry_run: bool, fmt: str) -> None:
    """Issue the day's reminders, each exactly once (a second run issues nothing), and
    deliver them with any earlier ones due for a retry.

    Example: extramile remind --as-of 2010-02-15 --format json
    """
    day = resolve_as_of(app, as_of)
    planned = app.store.remind(day, app.require_user(), dry_run=dry_run)
    if not dry_run:
        _deliver(app, ignore_backoff=False)
    verb = "would issue" if dry_run else "issued"
    _emit(planned, fmt, f"Reminders {verb} on {day}: {len(planned)}")


@click.command()
@click.option("--from", "first", type=DATE, required=True, metavar="YYYY-MM-DD",
              help="First day of the run.")
@click.option("--to", "last", type=DATE, required=True, metavar="YYYY-MM-DD",
              help="Last day of the run.")
@click.option("--dry-run", is_flag=True, help="Show what would be issued; record nothing.")
@click.option("--deliver", is_flag=True, help="Also send what is issued (default: hold it).")
@format_option()
@pass_app
def simulate(app: AppContext, first: dt.datetime, last: dt.datetime, dry_run: bool,
             deliver: bool, fmt: str) -> None:
    """Run the reminders day by day over a range, as the scheduler would have, against the
    state as of each day.  Issued reminders are recorded (a second run issues nothing) but
    held, not sent, unless --deliver: backfilling history never floods anyone.

    Example: extramile simulate --from 2009-05-01 --to 2010-09-30 --format json
    """
    if last < first:
        raise click.BadParameter("--to is before --from", param_hint="--to")
    from engine.bootstrap import today_in

    today = today_in(app.store.timeline.timezone)
    if not dry_run and last.date() > today:
        # A reminder recorded now for a day still to come would count as issued on that day
        # and never be sent by the scheduler.
        raise click.ClickException(
            f"simulate records what it issues, so it runs only up to today ({today}); "
            "forecast later days with --dry-run, which records nothing")
    days = (last.date() - first.date()).days + 1
    with progress_bar(days * 10, "simulating") as advance:
        planned = app.store.simulate(first.date(), last.date(), app.require_user(),
                                     dry_run=dry_run, progress=lambda n: advance(10 * n),
                                     deliver=deliver)
    if deliver and not dry_run:
        _deliver(app, ignore_backoff=False)
    verb = "would issue" if dry_run else "issued"
    _emit(planned, fmt, f"Reminders {verb} from {first.date()} to {last.date()}: {len(planned)}")


@click.command()
@pass_app
def deliver(app: AppContext) -> None:
    """Send every undelivered reminder now, ignoring the retry backoff.  Nothing already
    delivered is sent again."""
    app.require("remind", "send reminders")
    report = _deliver(app, ignore_backoff=True)
    click.echo(f"sent {report.sent}, failed {report.failed}, skipped {report.skipped}")


@click.command()
@click.option("--pending", "statuses", flag_value="pending", multiple=True,
              help="Only those not yet delivered (including failed ones).")
@click.option("--failed", "statuses", flag_value="failed", multiple=True,
              help="Only those whose last attempt failed.")
@click.option("--delivered", "statuses", flag_value="delivered", multiple=True,
              help="Only those delivered.")
@click.option("--held", "statuses", flag_value="held", multiple=True,
              help="Only those recorded by a simulation and never sent.")
@format_option()
@pass_app
def reminders(app: AppContext, statuses: tuple[str, ...], fmt: str) -> None:
    """List issued reminders and their delivery state (held, pending, failed, delivered)."""
    # Pending means not yet delivered: never tried, or tried and failed (to be retried).
    if app.require("read").la_scope is not None:
        from engine.permissions import Forbidden

        raise Forbidden(app.principal.email, "coordinator", "list the reminder ledger")
    wanted = {s for status in statuses for s in ((status, "failed") if status == "pending"
                                                  else (status,))}
    rows = app.store.queries.reminders(sorted(wanted) or None)
    columns = ["date", "obligation", "subject", "kind", "to", "status", "attempts",
               "last_error", "delivered_at"]
    if fmt == "table":
        rows = [{**r, "to": ", ".join(r["to"])} for r in rows]
    emit_rows(rows, fmt, columns if fmt != "json" else list(rows[0]) if rows else columns,
              title=f"Reminders: {len(rows)}")


COMMANDS = [remind, simulate, deliver, reminders]


@click.group()
def scheduler() -> None:
    """The scheduler service: the daily reminder run and delivery retries."""


@scheduler.command("run")
@click.option("--once", is_flag=True, help="Run today's reminders and deliveries once, then exit.")
@pass_app
def scheduler_run(app: AppContext, once: bool) -> None:
    """Serve: run reminders daily at the timeline's run_at (Europe/London), retry deliveries
    every few minutes, catch up at once on start; stop cleanly on SIGTERM or SIGINT."""
    from cli.logs import configure_logging
    from engine.schedule.service import SchedulerService

    app.require("remind", "run the scheduler")
    configure_logging(max(app.verbose, 1))  # a service logs each run's counts
    SchedulerService(app.store, app.require_user()).run(once=once)


COMMANDS.append(scheduler)
