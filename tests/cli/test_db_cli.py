"""db check, db upgrade and db copy (SQLite to PostgreSQL and back)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cli.main import cli
from tests.conftest import ADMIN

QUERIES = [
    ["overdue", "--as-of", "2010-02-15", "--format", "json"],
    ["board", "--as-of", "2010-02-15", "--format", "json"],
    ["audit", "T001", "--format", "json"],
    ["status", "R001", "--as-of", "2010-09-30", "--format", "json"],
]


def extramile(db: str, *args: str):
    return CliRunner().invoke(cli, ["--db", db, "--as", ADMIN, *args])


@pytest.fixture
def demo_db(tmp_path: Path) -> str:
    db = str(tmp_path / "demo.db")
    assert extramile(db, "init", "--admin", ADMIN).exit_code == 0
    programme = tmp_path / "programme.jsonl"
    from engine.demo_data import generate

    programme.write_text("".join(__import__("json").dumps(c) + "\n" for c in generate(las=3)))
    assert extramile(db, "import", str(programme)).exit_code == 0
    return db


def answers(db: str) -> list[str]:
    out = []
    for query in QUERIES:
        result = extramile(db, *query)
        assert result.exit_code == 0, result.stderr
        out.append(result.stdout)
    return out


def test_a_new_store_is_current(demo_db: str) -> None:
    result = extramile(demo_db, "db", "check")
    assert result.exit_code == 0 and "current" in result.stdout


def test_an_old_store_is_refused_until_upgraded_and_keeps_its_answers(demo_db: str) -> None:
    before = answers(demo_db)
    engine = create_engine(f"sqlite:///{demo_db}")
    with engine.begin() as conn:  # a store from before schema versions
        conn.execute(text("DROP TABLE em_schema_version"))
        conn.execute(text("ALTER TABLE em_reminders DROP COLUMN mail_subject"))
    engine.dispose()
    check = extramile(demo_db, "db", "check")
    assert check.exit_code == 1 and "db upgrade" in check.stderr
    refused = extramile(demo_db, *QUERIES[0])
    assert refused.exit_code == 1 and "db upgrade" in refused.stderr
    upgraded = extramile(demo_db, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.stderr
    assert extramile(demo_db, "db", "check").exit_code == 0
    assert answers(demo_db) == before


def test_the_engine_knows_its_head_revision_without_asking_alembic() -> None:
    from engine import schema

    assert schema.head() == schema.HEAD


def test_a_store_stamped_at_an_older_revision_is_refused(demo_db: str) -> None:
    engine = create_engine(f"sqlite:///{demo_db}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE em_schema_version SET version_num = '0001'"))
    engine.dispose()
    check = extramile(demo_db, "db", "check")
    assert check.exit_code == 1
    assert "revision 0001" in check.stderr and "db upgrade" in check.stderr


def test_copy_to_postgresql_and_back_gives_identical_answers(
        demo_db: str, postgres_url: str, tmp_path: Path) -> None:
    copied = extramile(demo_db, "db", "copy", "--to", postgres_url)
    assert copied.exit_code == 0, copied.stderr
    assert "verified" in copied.stdout
    assert answers(postgres_url) == answers(demo_db)
    back = str(tmp_path / "back.db")
    assert extramile(postgres_url, "db", "copy", "--to", back).exit_code == 0
    assert answers(back) == answers(demo_db)


def test_copy_refuses_a_target_that_holds_a_store(demo_db: str, tmp_path: Path) -> None:
    other = str(tmp_path / "other.db")
    assert extramile(other, "init", "--admin", ADMIN).exit_code == 0
    result = extramile(demo_db, "db", "copy", "--to", other)
    assert result.exit_code == 1 and "already exists" in result.stderr
