"""staff scopes, assigned advisors, events open to applicants, audit rows without a subject

Revision ID: 0013_staff_scopes_and_privacy
Revises: 0012_event_tally_headcounts
Create Date: 2026-12-03 13:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0013_staff_scopes_and_privacy"
down_revision = "0012_event_tally_headcounts"
branch_labels = None
depends_on = None

EVERY_GRANTED_SCOPE = "recovery events housing reports nudges"


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("staff_scopes", sa.String(length=120), server_default="", nullable=False)
        )
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("staff_scopes", sa.String(length=120), server_default="", nullable=False)
        )
    # Staff saw everything before scopes existed: nothing they do today stops working.
    op.execute(
        sa.text("UPDATE users SET staff_scopes = :scopes WHERE role = 'staff'").bindparams(
            scopes=EVERY_GRANTED_SCOPE
        )
    )
    op.execute(
        sa.text("UPDATE invitations SET staff_scopes = :scopes WHERE role = 'staff'").bindparams(
            scopes=EVERY_GRANTED_SCOPE
        )
    )

    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("advisor_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_member_profiles_advisor_id"), ["advisor_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_member_profiles_advisor_id_users"),
            "users",
            ["advisor_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "open_to_applicants", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )

    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detail", sa.String(length=200), nullable=True))
        batch_op.alter_column("subject_id", existing_type=sa.Integer(), nullable=True)


def downgrade():
    # Rows about nobody (exports, invitations) go back to being about their actor.
    op.execute("UPDATE audit_entries SET subject_id = actor_id WHERE subject_id IS NULL")
    op.execute("DELETE FROM audit_entries WHERE subject_id IS NULL")
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.alter_column("subject_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("detail")

    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("open_to_applicants")

    with op.batch_alter_table("member_profiles", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_member_profiles_advisor_id_users"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_member_profiles_advisor_id"))
        batch_op.drop_column("advisor_id")

    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("staff_scopes")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("staff_scopes")
