"""schedules that know the calendar: holiday and reading-days periods, series that skip
breaks and holidays, days an advisor opens in a break

Revision ID: 0019_calendar_closed_days
Revises: 0018_event_reminders
Create Date: 2026-12-08 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019_calendar_closed_days"
down_revision = "0018_event_reminders"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "classes_start", "add_drop", "midterms", "finals", "break", "move_in", "move_out",
    "graduation", "other",
)  # fmt: skip
NEW_KINDS = (*OLD_KINDS[:5], "holiday", "reading_days", *OLD_KINDS[5:])
# Going back, a holiday is closest to a break and reading days to "other".
BACK = {"holiday": "break", "reading_days": "other"}


def _kinds(column: str, kinds: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _kind_checks(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("calendar_periods", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_calendar_periods_kind_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_calendar_periods_kind_known"), _kinds("kind", kinds)
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_campaigns_period_kind_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_campaigns_period_kind_known"),
            "period_kind IS NULL OR " + _kinds("period_kind", kinds),
        )


def upgrade():
    _kind_checks(NEW_KINDS)
    with op.batch_alter_table("event_series", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "skips_closed_days", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
    op.create_table(
        "advisor_opened_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("advisor_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["advisor_id"],
            ["users.id"],
            name=op.f("fk_advisor_opened_days_advisor_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_opened_days")),
        sa.UniqueConstraint("advisor_id", "day", name="uq_advisor_opened_days_day"),
    )


def downgrade():
    op.drop_table("advisor_opened_days")
    with op.batch_alter_table("event_series", schema=None) as batch_op:
        batch_op.drop_column("skips_closed_days")
    for new, old in BACK.items():
        op.execute(f"UPDATE calendar_periods SET kind = '{old}' WHERE kind = '{new}'")
        op.execute(f"UPDATE campaigns SET period_kind = '{old}' WHERE period_kind = '{new}'")
    _kind_checks(OLD_KINDS)
