"""Retractions (em_retractions, em_instances.amended) and users keyed by aggregate id.

Like every read-model revision, it rebuilds: the tables are dropped and created in their new
shape, the tracking position goes back to the start, and the engine replays the events.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from engine.projections import tables

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind)
    tables.metadata.create_all(bind)
