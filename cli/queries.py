"""Reading: overdue, status, board, audit. All take --as-of (default: today in the programme's
timezone) and --format table|json|csv."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from cli.main import AppContext
from cli.output import STATUS_STYLES, emit_json, emit_rows, emit_table, format_option

pass_app = click.make_pass_decorator(AppContext)

DATE = click.DateTime(formats=["%Y-%m-%d"])


def as_of_option(f: Any) -> Any:
    return click.option("--as-of", "as_of", type=DATE, metavar="YYYY-MM-DD",
                        help="Business date to answer for (default: today, Europe/London).")(f)


def known_at_option(f: Any) -> Any:
    return click.option(
        "--known-at", "known_at", metavar="TIMESTAMP",
        help="Only what was recorded at or before this moment (ISO 8601, e.g. "
             "2010-02-15T17:00; without a zone, the programme's timezone).")(f)


def read_side(app: AppContext, known_at: str | None) -> Any:
    """The queries to answer from: the live read model, or the one as known at a moment."""
    if known_at is None:
        return app.store.queries
    try:
        moment = dt.datetime.fromisoformat(known_at)
    except ValueError:
        raise click.BadParameter(f"{known_at!r} is not an ISO 8601 timestamp",
                                 param_hint="--known-at") from None
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(app.store.timeline.timezone))
    return app.store.known_at(moment)


def resolve_as_of(app: AppContext, as_of: dt.datetime | None) -> dt.date:
    if as_of is not None:
        return as_of.date()
    from engine.bootstrap import today_in

    return today_in(app.store.timeline.timezone)


@click.command()
@as_of_option
@known_at_option
@format_option()
@click.option("--responsible", type=click.Choice(["dcsf", "la", "school"]),
              help="Only obligations this party owes.")
@click.option("--la", metavar="ID", help="Only this LA's subjects.")
@pass_app
def overdue(app: AppContext, as_of: dt.datetime | None, fmt: str, responsible: str | None,
            la: str | None, known_at: str | None = None) -> None:
    """Every overdue obligation instance, sorted by due date, obligation, subject.

    Example: extramile overdue --as-of 2010-02-15 --format json
    """
    day = resolve_as_of(app, as_of)
    scope = app.require("read").la_scope
    if scope is not None and la not in (None, scope):
        from engine.permissions import Forbidden

        raise Forbidden(app.principal.email, "coordinator", f"read about {la} (outside {scope})")
    items = read_side(app, known_at).overdue(day, responsible, scope or la)
    columns = ["obligation", "subject", "responsible", "la", "due", "days_overdue"]
    if fmt == "json":
        emit_json([{k: i[k] for k in columns} for i in items])
    else:
        emit_rows(items, fmt, [*columns, "title"], title=f"Overdue as of {day}: {len(items)}")


@click.command()
@click.argument("subject")
@as_of_option
@known_at_option
@format_option()
@pass_app
def status(app: AppContext, subject: str, as_of: dt.datetime | None, fmt: str,
           known_at: str | None = None) -> None:
    """A subject's lifecycle stage and the status of each of its obligations.

    SUBJECT is a school id, an LA id or dcsf.  Example: extramile status T001 --as-of 2010-02-15
    """
    day = resolve_as_of(app, as_of)
    app.require("read").check_subject(app.store.queries.subject(subject))
    result = read_side(app, known_at).status(subject, day)
    if fmt == "json":
        emit_json(result)
        return
    columns = ["obligation", "status", "opens", "due", "discharged_on", "days_overdue", "title"]
    if fmt == "csv":
        emit_rows(result["obligations"], fmt, columns)
        return
    heading = f"{subject} ({result['kind']}"
    heading += f", {result['role']}" if result["role"] else ""
    heading += f", LA {result['la']}" if result["la"] and result["la"] != subject else ""
    heading += f"): {result['name']}"
    if result["stage"]:
        heading += f" — stage {result['stage']}"
    emit_table(result["obligations"], columns, f"{heading} — as of {day}", STATUS_STYLES)


MARKS = {"done": "✓", "late": "L", "overdue": "!", "missed": "M", "open": "o",
         "upcoming": "·", "waived": "W", "withdrawn": "-"}


@click.command()
@as_of_option
@known_at_option
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html"]),
              default="table", show_default=True,
              help="Output format; html is one self-contained page (see --output).")
@click.option("--output", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Write to this file instead of stdout (for --format html).")
@pass_app
def board(app: AppContext, as_of: dt.datetime | None, fmt: str,
          known_at: str | None = None, output: Path | None = None) -> None:
    """The status board: per LA, its schools against the deliverables, plus LA and programme
    rows.  Marks: ✓ done, L late, ! overdue, M missed, o open, · upcoming, W waived,
    - withdrawn.  Example: extramile board --as-of 2010-02-15
    """
    day = resolve_as_of(app, as_of)
    scope = app.require("read").la_scope
    if fmt == "html":
        from engine.reports.board import board_context, render_board_html

        page = render_board_html(board_context(read_side(app, known_at), day, la=scope))
        if output is None:
            click.echo(page)
        else:
            output.write_text(page, encoding="utf-8")
            click.echo(f"wrote the board as of {day} to {output}")
        return
    result = read_side(app, known_at).board(day, la=scope)
    if fmt == "json":
        emit_json(result)
        return
    rows = _board_rows(result)
    if output is not None:
        raise click.UsageError("--output goes with --format html")
    if fmt == "csv":
        emit_rows(rows, fmt, ["subject", "kind", "la", "stage", *result["columns"]])
        return
    _board_table(app, result, rows)


def _board_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    def row(entry: dict[str, Any], la: str | None) -> dict[str, Any]:
        return {"subject": entry["subject"], "kind": entry["role"] or entry["kind"], "la": la,
                "stage": entry["stage"], "name": entry["name"], **entry["obligations"]}

    rows = [row(result["programme"], None)] if result["programme"] else []
    for la in result["las"]:
        rows.append(row(la, la["subject"]))
        rows.extend(row(school, la["subject"]) for school in la["schools"])
    return rows


def _board_table(app: AppContext, result: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from cli.output import STATUS_STYLES as styles
    from cli.output import console

    timeline = app.store.timeline
    out = console()
    counts = ", ".join(f"{k} {v}" for k, v in result["counts"].items())
    out.print(f"[bold]Extra Mile status board as of {result['as_of']}[/bold]  ({counts})")
    for party, label in (("dcsf", "DCSF"), ("la", "LAs"), ("school", "schools")):
        columns = [o for o in timeline.obligations if o.responsible.value == party]
        table = Table(title=f"Owed by {label}", title_justify="left", show_lines=False,
                      header_style="bold")
        table.add_column("subject")
        table.add_column("stage")
        for number, _ in enumerate(columns, start=1):
            table.add_column(str(number), justify="center")
        for r in rows:
            marks = [r.get(o.id) for o in columns]
            if not any(marks):
                continue
            table.add_row(
                ("  " if r["kind"] in ("trial", "partner") else "") + r["subject"],
                r["stage"] or "",
                *(f"[{styles.get(m, '')}]{MARKS.get(m, '')}[/]" if m else "" for m in marks))
        out.print(table)
        out.print("  " + "  ".join(f"{n}={o.id}" for n, o in enumerate(columns, start=1)),
                  style="dim")
    out.print("Marks: " + "  ".join(f"{v} {k}" for k, v in MARKS.items()))


class AuditGroup(click.Group):
    """`audit SUBJECT` shows a trail; `audit verify` and `audit seal` check the whole log."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["trail", *args]
        return super().parse_args(ctx, args)


@click.group(cls=AuditGroup)
def audit() -> None:
    """Audit: `audit SUBJECT` replays who recorded what and when; `audit verify` checks the
    hash chain over every stored event; `audit seal` prints its head for a witness.

    Examples: extramile audit T001 --format json;  extramile audit verify
    """


@audit.command("trail")
@click.argument("subject")
@format_option()
@pass_app
def trail(app: AppContext, subject: str, fmt: str) -> None:
    """Every recorded event about SUBJECT, oldest first: what, business date, by whom,
    recorded when and by which user, and its content."""
    app.require("read").check_subject(app.store.queries.subject(subject))
    entries = app.store.audit(subject)
    columns = ["event", "on", "by", "recorded_at", "recorded_by", "payload"]
    if fmt == "table":
        entries = [{**e, "payload": _short(e["payload"])} for e in entries]
    emit_rows(entries, fmt, columns, title=f"Audit trail of {subject}")


@audit.command()
@click.option("--against", "seal_file", type=click.File("r"), metavar="SEAL",
              help="A seal printed earlier by 'audit seal' (a file, or - for stdin).")
@pass_app
def verify(app: AppContext, seal_file: Any) -> None:
    """Recompute the hash chain over every stored event; exit 1 naming the first broken link
    (an event edited, deleted, inserted or reordered outside the engine)."""
    import json

    app.require("read", "verify the audit chain")
    result = app.store.verify_chain()
    if result.broken is not None:
        b = result.broken
        subject = app.store.subject_of_aggregate(b.originator_id) or b.originator_id
        raise click.ClickException(
            f"audit chain broken at event {b.position}: {b.what} (subject {subject}, "
            f"version {b.version}, recorded_at "
            f"{b.recorded_at.isoformat() if b.recorded_at else 'unknown'})")
    if seal_file is not None:
        try:
            seal = json.load(seal_file)
            head, count = str(seal["head"]), int(seal["events"])
        except (ValueError, KeyError, TypeError):
            raise click.ClickException("the seal is not one printed by 'audit seal'") from None
        sealed = app.store.verify_chain(upto=count)
        if sealed.events != count or sealed.head != head:
            raise click.ClickException(
                f"the log up to the seal changed: {sealed.events} of {count} sealed events "
                f"give head {sealed.head[:16]}..., the seal says {head[:16]}...")
        click.echo(f"audit chain intact; the {count} events up to the seal are unchanged")
        return
    click.echo(f"audit chain intact: {result.events} events, head {result.head}")


@audit.command()
@pass_app
def seal(app: AppContext) -> None:
    """Print the chain's head hash, event count and time (JSON) for an external witness."""
    app.require("read", "seal the audit chain")
    result = app.store.verify_chain()
    if result.broken is not None:
        raise click.ClickException("the audit chain is broken: run 'extramile audit verify'")
    emit_json({"head": result.head, "events": result.events,
               "sealed_at": app.store.app.clock()})


def _short(payload: dict[str, Any]) -> str:
    import json

    from engine.jsonable import to_jsonable

    text = json.dumps(to_jsonable(payload), ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


COMMANDS = [overdue, status, board, audit]
