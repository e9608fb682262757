"""The web app's JSON endpoints answer exactly what the CLI answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from cli.main import cli
from engine.bootstrap import open_store
from engine.web import create_app, issue_token
from tests.conftest import ADMIN, DATA

QUERIES = [
    ("/api/overdue?as_of=2010-02-15", ["overdue", "--as-of", "2010-02-15", "--format", "json"]),
    ("/api/status/T003?as_of=2010-02-15",
     ["status", "T003", "--as-of", "2010-02-15", "--format", "json"]),
    ("/api/board?as_of=2010-02-15", ["board", "--as-of", "2010-02-15", "--format", "json"]),
    ("/api/audit/R001", ["audit", "R001", "--format", "json"]),
]


@pytest.fixture
def served(tmp_path: Path):
    db = str(tmp_path / "web.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "--as", ADMIN, "init", "--admin", ADMIN]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "--as", ADMIN, "import",
                                 str(DATA / "sample-programme.jsonl")])
    assert result.exit_code == 0
    store = open_store(db)
    store.add_user("coord@la01.test", "coordinator", "LA01", ADMIN)
    yield db, store, TestClient(create_app(store))
    store.close()


@pytest.mark.parametrize(("path", "args"), QUERIES)
def test_json_endpoints_return_what_the_cli_returns(served, path: str, args: list[str]) -> None:
    db, store, client = served
    answer = client.get(path, headers={"Authorization": f"Bearer {issue_token(store, ADMIN)}"})
    assert answer.status_code == 200
    printed = CliRunner().invoke(cli, ["--db", db, "--as", ADMIN, *args])
    assert answer.json() == json.loads(printed.stdout)


def test_requests_without_a_valid_token_are_refused(served) -> None:
    _, store, client = served
    assert client.get("/api/overdue").status_code == 401
    assert client.get("/api/overdue", headers={"Authorization": "Bearer forged.123"}
                      ).status_code == 401
    token = issue_token(store, "coord@la01.test")
    store.revoke_user("coord@la01.test", ADMIN)
    assert client.get("/api/overdue", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401


def test_a_coordinator_sees_only_its_la(served) -> None:
    _, store, client = served
    headers = {"Authorization": f"Bearer {issue_token(store, 'coord@la01.test')}"}
    overdue = client.get("/api/overdue?as_of=2010-02-15", headers=headers).json()
    assert overdue and {o["la"] for o in overdue} == {"LA01"}
    assert client.get("/api/status/T005", headers=headers).status_code == 403
    board = client.get("/api/board?as_of=2010-02-15", headers=headers).json()
    assert [la["subject"] for la in board["las"]] == ["LA01"] and board["programme"] is None


def test_pages_and_the_openapi_document(served) -> None:
    _, store, client = served
    token = issue_token(store, ADMIN)
    board = client.get(f"/?token={token}&as_of=2010-02-15")
    assert board.status_code == 200 and 'id="grid"' in board.text
    assert client.get("/school/T001?as_of=2010-02-15").status_code == 200  # the cookie
    school = client.get("/school/T001?as_of=2010-02-15")
    assert 'id="audit"' in school.text and "Nominated" in school.text
    assert client.get("/la/LA02").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/overdue", "/api/status/{subject}", "/api/board",
            "/api/audit/{subject}"} <= set(spec["paths"])
