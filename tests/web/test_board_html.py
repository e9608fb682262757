"""The self-contained HTML board: content, counts, and no network requests."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from engine.bootstrap import Store
from engine.reports.board import board_context, render_board_html

DAY = dt.date(2010, 2, 15)


class Page(HTMLParser):
    """Collects the attributes of every element of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


@pytest.fixture
def page(sample_store: Store) -> tuple[str, Page]:
    html = render_board_html(board_context(sample_store.queries, DAY))
    parsed = Page()
    parsed.feed(html)
    return html, parsed


def test_the_board_has_a_row_per_school_and_a_cell_per_applicable_obligation(
        sample_store: Store, page: tuple[str, Page]) -> None:
    _, parsed = page
    rows = {a["data-subject"] for tag, a in parsed.elements
            if tag == "tr" and a.get("data-subject")}
    stages = sample_store.queries.stages(DAY)
    assert {s for s, stage in stages.items() if stage is not None} <= rows
    assert {"dcsf", "LA01", "LA02"} <= rows
    cells = [a["data-status"] for tag, a in parsed.elements
             if tag == "td" and "data-status" in a and a.get("class") == "cell"]
    applicable = len(sample_store.queries.rows(DAY))
    assert sum(1 for c in cells if c != "n/a") == applicable


def test_the_legend_shows_every_status(page: tuple[str, Page]) -> None:
    html, _ = page
    legend = html[html.index('id="legend"'):html.index('id="grid"')]
    for status in ("done", "late", "open", "upcoming", "overdue", "missed", "waived",
                   "withdrawn", "n/a"):
        assert status in legend


def test_the_counts_match_the_overdue_list(sample_store: Store, page: tuple[str, Page]) -> None:
    html, _ = page
    overdue = sample_store.queries.overdue(DAY)
    tile = re.search(r'data-status="overdue">.*?<b>(\d+)</b>', html, re.S)
    assert tile is not None and int(tile.group(1)) == len(overdue)
    listed = html[html.index('id="overdue"'):html.index('id="rollup"')]
    assert listed.count("<tr>") - 1 == len(overdue)


def test_the_page_makes_no_network_requests(page: tuple[str, Page]) -> None:
    html, parsed = page
    for tag, attrs in parsed.elements:
        assert tag not in ("script", "link", "img", "iframe")
        for name in ("src", "href", "action"):
            value = attrs.get(name) or ""
            assert not re.match(r"^(https?:)?//", value), (tag, name, value)
    assert "url(" not in html and "@import" not in html


def test_funding_and_surveys_are_shown(page: tuple[str, Page]) -> None:
    html, _ = page
    assert 'id="funding"' in html and "5000.00" in html
    assert html.count("<svg") >= 2
