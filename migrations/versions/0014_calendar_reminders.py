"""calendar reminders: how long before an event or appointment a student's calendar
reminds them (NULL: no reminder)

Revision ID: 0014_calendar_reminders
Revises: 0013_staff_scopes_and_privacy
Create Date: 2026-12-03 15:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014_calendar_reminders"
down_revision = "0013_staff_scopes_and_privacy"
branch_labels = None
depends_on = None


def upgrade():
    # Students already in the program get the hour's reminder new students get; each may
    # turn it off on their profile.
    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "calendar_reminder_minutes",
                sa.Integer(),
                server_default=sa.text("60"),
                nullable=True,
            )
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_member_profiles_calendar_reminder_plausible"),
            "calendar_reminder_minutes BETWEEN 0 AND 40320",
        )


def downgrade():
    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("ck_member_profiles_calendar_reminder_plausible"), type_="check"
        )
        batch_op.drop_column("calendar_reminder_minutes")
