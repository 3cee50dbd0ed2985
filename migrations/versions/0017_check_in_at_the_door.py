"""check-in at the door: rotating check-in codes (a secret per event instead of one
fixed code), walk-ins by code per event, and the notices staff send to attendees

Revision ID: 0017_check_in_at_the_door
Revises: 0016_saml_assertions_seen
Create Date: 2026-12-08 10:00:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_check_in_at_the_door"
down_revision = "0016_saml_assertions_seen"
branch_labels = None
depends_on = None

CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"


def _fill(column: str, make) -> None:
    """Give every existing event its own random value in `column`."""
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM events")).scalars().all()
    if ids:
        connection.execute(
            sa.text(f"UPDATE events SET {column} = :value WHERE id = :id"),  # noqa: S608 - fixed names
            [{"id": event_id, "value": make()} for event_id in ids],
        )


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "allow_walk_ins", sa.Boolean(), server_default=sa.text("true"), nullable=False
            )
        )
    # Codes now change every minute, made from a secret each event keeps.
    _fill("checkin_secret", lambda: secrets.token_hex(32))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("checkin_secret", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("checkin_code")

    op.create_table(
        "event_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("send_key", sa.String(length=32), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("included_waitlist", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "recipients >= 0", name=op.f("ck_event_notices_recipients_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_notices_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["users.id"],
            name=op.f("fk_event_notices_sent_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_notices")),
        sa.UniqueConstraint("event_id", "send_key", name="uq_event_notices_send_key"),
    )


def downgrade():
    op.drop_table("event_notices")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checkin_code", sa.String(length=8), nullable=True))
    _fill("checkin_code", lambda: "".join(secrets.choice(CODE_ALPHABET) for _ in range(6)))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.alter_column("checkin_code", existing_type=sa.String(length=8), nullable=False)
        batch_op.drop_column("allow_walk_ins")
        batch_op.drop_column("checkin_secret")
