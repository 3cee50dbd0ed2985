"""campus sign-on: SAML assertions already used, refused if they come again

Revision ID: 0016_saml_assertions_seen
Revises: 0015_sso_identities
Create Date: 2026-12-05 10:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016_saml_assertions_seen"
down_revision = "0015_sso_identities"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saml_assertions_seen",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saml_assertions_seen")),
    )


def downgrade():
    op.drop_table("saml_assertions_seen")
