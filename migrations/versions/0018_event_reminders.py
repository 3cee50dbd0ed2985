"""event reminders: staff's per-kind settings, the start each RSVP was reminded for, and
"event reminders" as an email category students may opt out of

Revision ID: 0018_event_reminders
Revises: 0017_check_in_at_the_door
Create Date: 2026-12-08 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018_event_reminders"
down_revision = "0017_check_in_at_the_door"
branch_labels = None
depends_on = None

NUDGE_CATEGORIES = "category IN ('events', 'academic', 'housing', 'wellbeing')"
OPT_OUT_CATEGORIES = (
    "category IN ('events', 'academic', 'housing', 'wellbeing', 'event_reminders')"
)


def upgrade():
    op.create_table(
        "event_reminder_settings",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("lead_hours", sa.Integer(), server_default=sa.text("24"), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('all_recovery', 'peer_support', 'sober_social', 'academic', 'wellness', "
            "'service')",
            name=op.f("ck_event_reminder_settings_kind_known"),
        ),
        sa.CheckConstraint(
            "lead_hours BETWEEN 1 AND 168",
            name=op.f("ck_event_reminder_settings_lead_hours_plausible"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_event_reminder_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_event_reminder_settings")),
    )
    # No RSVP was reminded before this release: NULL for all.
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reminded_for", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("email_opt_outs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_email_opt_outs_category_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_email_opt_outs_category_known"), OPT_OUT_CATEGORIES
        )


def downgrade():
    # The old constraint does not allow the new category: those opt-outs go with it.
    op.execute("DELETE FROM email_opt_outs WHERE category = 'event_reminders'")
    with op.batch_alter_table("email_opt_outs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_email_opt_outs_category_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_email_opt_outs_category_known"), NUDGE_CATEGORIES
        )
    with op.batch_alter_table("rsvps", schema=None) as batch_op:
        batch_op.drop_column("reminded_for")
    op.drop_table("event_reminder_settings")
