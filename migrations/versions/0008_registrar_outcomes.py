"""registrar outcomes: members' term GPA, credits and next-term enrollment from the registrar

Revision ID: 0008_registrar_outcomes
Revises: 0007_nudges
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_registrar_outcomes'
down_revision = '0007_nudges'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('registrar_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('term_gpa', sa.Numeric(precision=4, scale=3, asdecimal=False), nullable=True),
    sa.Column('credits', sa.Numeric(precision=5, scale=2, asdecimal=False), nullable=False),
    sa.Column('enrolled_next_term', sa.Boolean(), nullable=False),
    sa.Column('graduated', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('NOT (enrolled_next_term AND graduated)', name=op.f('ck_registrar_records_enrolled_or_graduated')),
    sa.CheckConstraint('credits >= 0 AND credits <= 60', name=op.f('ck_registrar_records_credits_range')),
    sa.CheckConstraint('term_gpa IS NULL OR (term_gpa >= 0 AND term_gpa <= 5)', name=op.f('ck_registrar_records_gpa_range')),
    sa.ForeignKeyConstraint(['term_id'], ['terms.id'], name=op.f('fk_registrar_records_term_id_terms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_registrar_records_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_registrar_records_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registrar_records')),
    sa.UniqueConstraint('user_id', 'term_id', name='uq_registrar_records_user_term')
    )
    with op.batch_alter_table('registrar_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registrar_records_term_id'), ['term_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_registrar_records_uploaded_by_id'), ['uploaded_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('registrar_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registrar_records_uploaded_by_id'))
        batch_op.drop_index(batch_op.f('ix_registrar_records_term_id'))

    op.drop_table('registrar_records')
