"""dashboard rollups count headcount-only meetings: an event tally's headcount

Revision ID: 0012_event_tally_headcounts
Revises: 0011_account_mail_requests
Create Date: 2026-12-04 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0012_event_tally_headcounts"
down_revision = "0011_account_mail_requests"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dashboard_event_tallies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headcount", sa.Integer(), nullable=True))

    # Headcounts already recorded, and the day totals that sum them: the first refresh
    # rolls everything up again.
    op.execute("INSERT INTO dashboard_rollup_marks (scope) VALUES ('rebuild')")


def downgrade():
    with op.batch_alter_table("dashboard_event_tallies", schema=None) as batch_op:
        batch_op.drop_column("headcount")

    # Day totals written for headcounts mean nothing to the older code: roll up again.
    op.execute("INSERT INTO dashboard_rollup_marks (scope) VALUES ('rebuild')")
