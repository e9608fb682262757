"""The served board in a real headless browser (Debian's chromium, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.conftest import ADMIN, DATA

ROOT = Path(__file__).parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("EXTRAMILE_TEST_BROWSER") == "required":
            pytest.fail("chromium is required (EXTRAMILE_TEST_BROWSER=required) but missing")
        pytest.skip("browser tests need Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    db = str(tmp_path / "web.db")
    runner = CliRunner()
    runner.invoke(cli, ["--db", db, "--as", ADMIN, "init", "--admin", ADMIN])
    runner.invoke(cli, ["--db", db, "--as", ADMIN, "import", str(DATA / "sample-programme.jsonl")])
    token = runner.invoke(cli, ["--db", db, "--as", ADMIN, "users", "token", ADMIN]).stdout.strip()
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "cli", "--db", db, "--as", ADMIN, "serve",
                                "--port", str(port)], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", token
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_board_in_a_browser_down_to_a_schools_audit_trail(
        browser, server, tmp_path: Path) -> None:
    base, token = server
    page = browser.new_page(viewport={"width": 1600, "height": 1200})
    page.goto(f"{base}/?token={token}&as_of=2010-02-15")
    assert page.locator("#as-of").inner_text() == "2010-02-15"
    assert page.locator("#grid tr[data-subject]").count() >= 14
    overdue = page.locator('#grid td[data-status="overdue"]').first
    colour = overdue.evaluate("cell => getComputedStyle(cell).backgroundColor")
    assert colour == "rgb(198, 40, 40)"
    artifacts = Path(os.environ.get("EXTRAMILE_TEST_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(artifacts / "board.png"), full_page=True)

    page.fill('input[name="as_of"]', "2010-09-30")
    page.click('form.asof button[type="submit"]')
    page.wait_for_url("**as_of=2010-09-30**")
    assert page.locator("#as-of").inner_text() == "2010-09-30"

    page.click('#grid a[href^="/school/T003"]')
    page.wait_for_selector("#audit")
    assert page.locator("#stage").inner_text() == "account_closed"
    trail = page.locator("#audit tr").all_inner_texts()
    assert any("Nominated" in row for row in trail) and len(trail) > 10
    page.screenshot(path=str(artifacts / "school.png"), full_page=True)
