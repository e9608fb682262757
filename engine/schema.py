"""Read-model schema versions (alembic, engine/migrations): check and upgrade.

`init` creates the newest tables and stamps them; `upgrade` migrates an older store's read
model. Stored events are never migrated here (old events load through upcasting).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "em_schema_version"


def _config(connection: object) -> object:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head() or ""


def current(engine: Engine) -> str | None:
    """The store's read-model revision (None if it has never been stamped)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def stamp(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.stamp(_config(conn), "head")


def upgrade(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")
