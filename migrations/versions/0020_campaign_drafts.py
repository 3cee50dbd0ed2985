"""nudges: a new campaign is a draft until staff make it live

Revision ID: 0020_campaign_drafts
Revises: 0019_calendar_closed_days
Create Date: 2026-12-04 20:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020_campaign_drafts"
down_revision = "0019_calendar_closed_days"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("live_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("made_live_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_campaigns_made_live_by_id_users"),
            "users",
            ["made_live_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    # Campaigns saved before drafts existed were sending from the day they were saved.
    op.execute("UPDATE campaigns SET live_since = created_at")


def downgrade():
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_campaigns_made_live_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("made_live_by_id")
        batch_op.drop_column("live_since")
