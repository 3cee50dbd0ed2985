"""mail asked for by address (password reset, attack notice), resolved by the outbox worker

Revision ID: 0011_account_mail_requests
Revises: 0010_appointment_indexes
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_account_mail_requests'
down_revision = '0010_appointment_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_mail_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('reset_link', 'attack_notice')",
            name=op.f('ck_account_mail_requests_kind_known'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_mail_requests')),
    )


def downgrade():
    op.drop_table('account_mail_requests')
