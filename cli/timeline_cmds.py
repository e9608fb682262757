"""The timeline file: check it, show it month by month."""

from __future__ import annotations

from pathlib import Path

import click

from cli.main import AppContext
from cli.output import emit_json, emit_rows, format_option

pass_app = click.make_pass_decorator(AppContext)


@click.group()
def timeline() -> None:
    """Check or show the programme timeline (config/timeline.yaml)."""


@timeline.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@pass_app
def check(app: AppContext, file: Path | None) -> None:
    """Report every problem in a timeline FILE (default: the one in force), with its line.

    Exit 1 when there is any.  Example: extramile timeline check my-timeline.yaml
    """
    from engine import timeline as tl
    from engine.commands import VOCABULARY

    path = file or (Path(app.timeline) if app.timeline else tl.default_path())
    loaded, problems = tl.check(path, VOCABULARY)
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        n = len(problems)
        raise click.ClickException(f"{path}: {n} problem{'s' if n != 1 else ''}")
    assert loaded is not None
    click.echo(f"{path}: ok ({len(loaded.obligations)} obligations, "
               f"{loaded.starts} to {loaded.ends})")


@timeline.command()
@format_option()
@pass_app
def show(app: AppContext, fmt: str) -> None:
    """Print the timeline month by month, like the handbook's table."""
    from engine.bootstrap import load_timeline

    t = load_timeline(app.timeline)
    rows = []
    for o in sorted(t.obligations, key=lambda o: (o.due or t.ends, t.order[o.id])):
        rows.append({
            "month": o.due.strftime("%B %Y") if o.due else "relative",
            "obligation": o.id, "responsible": o.responsible.value, "per": o.per.value,
            "opens": o.opens.isoformat() if o.opens else f"on {' / '.join(o.trigger)}",
            "due": o.due.isoformat() if o.due else f"+{o.due_days} days",
            "kind": o.kind.value, "title": o.title, "handbook": o.handbook,
        })
    if fmt == "json":
        emit_json(rows)
        return
    columns = ["month", "obligation", "responsible", "opens", "due", "kind", "title"]
    if fmt == "csv":
        emit_rows(rows, fmt, [*columns, "per", "handbook"])
        return
    from rich.table import Table

    from cli.output import console

    table = Table(title=f"{t.programme}: timeline", title_justify="left", header_style="bold")
    for c in columns:
        table.add_column(c)
    month = None
    for r in rows:
        table.add_row(*(r[c] if c != "month" or r[c] != month else "" for c in columns),
                      end_section=False)
        month = r["month"]
    console().print(table)


COMMANDS = [timeline]
