"""The status board as one self-contained HTML page (inline CSS and SVG, no network requests),
for `board --format html` and the web app."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from functools import cache
from typing import Any

from engine.obligations import Status
from engine.projections import tables as t
from engine.projections.queries import Queries

STATUSES = ["done", "late", "open", "upcoming", "overdue", "missed", "waived", "withdrawn", "n/a"]
COLOURS = {
    "done": "#2e7d32", "late": "#f9a825", "open": "#29b6f6", "upcoming": "#cfd8dc",
    "overdue": "#c62828", "missed": "#8e24aa", "waived": "#5c6bc0", "withdrawn": "#9e9e9e",
    "n/a": "#ffffff",
}
NOT_APPLICABLE = {"status": "n/a", "tip": "not applicable"}
DUE_SO_FAR = {Status.DONE, Status.LATE, Status.OVERDUE, Status.MISSED}


def board_context(queries: Queries, as_of: dt.date, la: str | None = None) -> dict[str, Any]:
    """Everything the board page shows, as plain data."""
    timeline = queries.timeline
    board = queries.board(as_of, la=la)
    where = [] if la is None else [t.instances.c.la == la]
    rows = queries.rows(as_of, *where)
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    by_la: dict[str, Counter[str]] = defaultdict(Counter)
    responsible: Counter[str] = Counter()
    for row in rows:
        inst = row.instance
        status = inst.status(as_of)
        discharged = inst.discharge_as_of(as_of)
        extensions = [e for e in inst.extensions if e.granted_on <= as_of]
        tip = [f"{inst.obligation} — {status.value}", f"due {inst.due_in_force(as_of)}"]
        if discharged:
            tip.append(f"discharged {discharged} by {row.discharged_by or 'unknown'}")
        tip += [f"extended on {e.granted_on} to {e.due}" for e in extensions]
        cells[(inst.subject, inst.obligation)] = {"status": status.value,
                                                   "tip": "; ".join(tip)}
        if status in DUE_SO_FAR and row.la:
            by_la[row.la][status.value] += 1
        if status is Status.OVERDUE:
            responsible[row.responsible] += 1
    columns = _month_groups(timeline)
    grid = []
    entries = ([board["programme"]] if board["programme"] else []) + [
        e for la_entry in board["las"] for e in (la_entry, *la_entry["schools"])]
    for entry in entries:
        grid.append({
            "subject": entry["subject"], "name": entry["name"], "stage": entry["stage"],
            "indent": entry["kind"] == "school",
            "cells": [cells.get((entry["subject"], o.id), NOT_APPLICABLE)
                      for _, group in columns for o in group],
        })
    rollup = []
    for la_entry in board["las"]:
        c = by_la.get(la_entry["subject"], Counter())
        due = sum(c.values())
        rollup.append({"la": la_entry["subject"], "name": la_entry["name"], "due": due,
                       "on_time": round(100 * c["done"] / due) if due else None,
                       "overdue": c["overdue"], "late": c["late"], "missed": c["missed"]})
    upcoming = sorted({(o.due, o.id, o.title) for o in timeline.obligations
                       if o.due is not None and o.due >= as_of})[:5]
    return {
        "programme": timeline.programme, "as_of": as_of, "counts": board["counts"],
        "statuses": STATUSES, "colours": COLOURS, "columns": columns, "grid": grid,
        "overdue": queries.overdue(as_of, la=la), "overdue_by": dict(responsible),
        "rollup": rollup, "next_deadlines": [
            {"due": due, "obligation": oid, "title": title, "days": (due - as_of).days}
            for due, oid, title in upcoming],
        "months": _months(timeline, as_of), "funding": queries.funding(as_of, la=la),
        "surveys": _survey_charts(queries.survey_means(as_of, la=la)),
    }


def render_board_html(context: dict[str, Any], links: bool = False) -> str:
    """The page; with `links`, subjects link to their pages and an as-of picker is shown."""
    return _environment().get_template("board.html.j2").render(**context, links=links)


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("engine.reports", "templates"),
                       autoescape=select_autoescape(["html", "j2"]))


def _month_groups(timeline: Any) -> list[tuple[str, list[Any]]]:
    groups: dict[str, list[Any]] = defaultdict(list)
    order: list[str] = []
    for o in sorted(timeline.obligations, key=lambda o: (o.due or timeline.ends,
                                                          timeline.order[o.id])):
        label = o.due.strftime("%b %Y") if o.due else "on trigger"
        if label not in groups:
            order.append(label)
        groups[label].append(o)
    return [(label, groups[label]) for label in order]


def _months(timeline: Any, as_of: dt.date) -> list[dict[str, Any]]:
    months, day = [], timeline.starts.replace(day=1)
    while day <= timeline.ends:
        following = (day + dt.timedelta(days=32)).replace(day=1)
        length = (following - day).days
        marker = round(100 * (as_of - day).days / length) if day <= as_of < following else None
        months.append({"label": day.strftime("%b %y"), "past": following <= as_of,
                       "marker": marker})
        day = following
    return months


def _survey_charts(means: dict[str, Any]) -> list[dict[str, Any]]:
    """Small bar charts: per subject, per survey (pupil, staff), bars per question and round."""
    charts = []
    rounds = ["baseline", "autumn", "spring"]
    shades = {"baseline": "#b0bec5", "autumn": "#ff8f00", "spring": "#43a047"}
    for subject in sorted(means, key=lambda s: (s != "programme", s)):
        for kind in ("pupil", "staff"):
            by_round = means[subject].get(kind)
            if not by_round:
                continue
            questions = max(len(v) for v in by_round.values())
            bars = []
            for q in range(questions):
                for r_index, round_ in enumerate(rounds):
                    values = by_round.get(round_)
                    if values and q < len(values):
                        height = values[q] * 6
                        bars.append({"x": q * 22 + r_index * 6 + 2, "y": 62 - height,
                                     "h": height, "colour": shades[round_],
                                     "tip": f"Q{q + 1} {round_}: {values[q]}"})
            charts.append({"subject": subject, "kind": kind, "width": questions * 22 + 4,
                           "bars": bars, "rounds": [r for r in rounds if r in by_round],
                           "shades": shades})
    return charts
