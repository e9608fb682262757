"""Read-model schema versions (alembic, engine/migrations): check and upgrade.

`init` creates the newest tables and stamps them; `upgrade` migrates an older store's read
model. Stored events are never migrated here (old events load through upcasting).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "em_schema_version"
# The newest revision in engine/migrations/versions. Every command compares the store with it,
# so reading it must not import alembic (a tenth of a second); a test pins it to alembic's head.
HEAD = "0003"


def _config(connection: object) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision as alembic's scripts say (HEAD must equal it)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The store's read-model revision (None if it has never been stamped): read from
    alembic's version table with plain SQL, as every command does it."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        return conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def stamp(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.stamp(_config(conn), "head")


def upgrade(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")
