"""home: what a student has seen, so their home page lists only what is new to them

An appointment's summary the student has not opened yet, and the waitlist place they
were last shown on an event's page.

Revision ID: 0021_home_seen
Revises: 0020_campaign_drafts
Create Date: 2026-12-04 20:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0021_home_seen"
down_revision = "0020_campaign_drafts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("summary_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_waitlist_place", sa.Integer(), nullable=True))
    # Summaries written before this was tracked were emailed to the student when saved:
    # count them as seen, so no home page fills with old news.
    op.execute(
        "UPDATE appointments SET summary_seen_at = updated_at"
        " WHERE summary <> '' OR action_items <> ''"
    )


def downgrade():
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.drop_column("seen_waitlist_place")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_column("summary_seen_at")
