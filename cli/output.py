"""Rendering command output: table (rich), JSON or CSV, always to stdout."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from engine.jsonable import to_jsonable

FORMATS = ("table", "json", "csv")


def format_option(default: str = "table") -> Any:
    return click.option("--format", "fmt", type=click.Choice(FORMATS), default=default,
                        show_default=True, help="Output format (JSON and CSV for scripts).")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(to_jsonable(data), indent=1, ensure_ascii=False))


def emit_rows(rows: Sequence[dict[str, Any]], fmt: str, columns: Sequence[str],
              title: str | None = None, styles: dict[str, str] | None = None) -> None:
    """A list of records as a table, JSON array or CSV (JSON keeps every key)."""
    if fmt == "json":
        emit_json(list(rows))
    elif fmt == "csv":
        emit_csv(rows, columns)
    else:
        emit_table(rows, columns, title, styles or {})


def emit_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    click.echo(buffer.getvalue(), nl=False)


def emit_table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None,
               styles: dict[str, str]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        style = styles.get(str(row.get("status", "")))
        table.add_row(*(_cell(row.get(c)) for c in columns), style=style)
    console().print(table)
    if not rows:
        console().print("(none)")


def console() -> Any:
    from rich.console import Console

    return Console(file=sys.stdout, soft_wrap=False, width=None if sys.stdout.isatty() else 200)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(to_jsonable(value), ensure_ascii=False)
    return str(value)


STATUS_STYLES = {
    "overdue": "red", "missed": "magenta", "late": "yellow", "done": "green",
    "open": "cyan", "upcoming": "dim", "waived": "blue", "withdrawn": "dim strike",
}
