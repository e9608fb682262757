"""The read model as of engine 0.1: rebuilt from the events.

The read-model tables only hold what the events say, so this first revision drops whatever
read-model tables a store has (from any earlier shape) and creates them afresh with the
tracking position at the start of the log; the engine then replays the events into them.
Stored events are not touched.

Revision ID: 0001
Revises:
"""

from alembic import op

from engine.projections import tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tables.metadata.drop_all(bind)
    tables.metadata.create_all(bind)
