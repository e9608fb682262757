"""The index on obligation instances' due date also holds the dates that settle an instance
(discharged, waived, withdrawn) and its kind and start: `overdue` and the reminder run read
only the instances still open on their day, filtering inside the index instead of reading
every row whose due date has passed.

Only an index changes: no table is rebuilt and no event is replayed.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ["due", "discharged_on", "waived_on", "withdrawn_on", "kind", "exists_from"]


def upgrade() -> None:
    # After 0001 or 0002 in the same upgrade the tables were just created in the newest shape,
    # with the new index and without the old one.
    op.drop_index("em_instances_due", table_name="em_instances", if_exists=True)
    op.create_index("em_instances_open", "em_instances", COLUMNS, if_not_exists=True)
