"""Alembic environment for the read-model tables (the event tables are never migrated)."""

from __future__ import annotations

from alembic import context

from engine.projections.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  version_table="em_schema_version")
with context.begin_transaction():
    context.run_migrations()
