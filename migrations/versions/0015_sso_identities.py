"""campus sign-on: which account each identity provider's subject signs in as

Revision ID: 0015_sso_identities
Revises: 0014_calendar_reminders
Create Date: 2026-12-04 18:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_sso_identities"
down_revision = "0014_calendar_reminders"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sso_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.String(length=8), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "protocol IN ('oidc', 'saml')", name=op.f("ck_sso_identities_protocol_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_sso_identities_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sso_identities")),
        sa.UniqueConstraint("protocol", "issuer", "subject", name="uq_sso_identities_subject"),
        sa.UniqueConstraint("user_id", "protocol", "issuer", name="uq_sso_identities_account"),
    )


def downgrade():
    op.drop_table("sso_identities")
