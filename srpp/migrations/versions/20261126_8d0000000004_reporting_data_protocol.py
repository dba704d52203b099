"""reporting data protocol

Revision ID: 8d0000000004
Revises: 8c0000000003
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import srpp.core.db


revision = '8d0000000004'
down_revision = '8c0000000003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('data_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('draft', 'submitted', name='submissionstate', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('submitted_at', srpp.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("state <> 'submitted' OR submitted_at IS NOT NULL", name=op.f('ck_data_submissions_submitted_has_time')),
    sa.CheckConstraint('due_on >= period_end', name=op.f('ck_data_submissions_due_after_period')),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_data_submissions_period_ordered')),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_data_submissions_contract_id_contracts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_data_submissions_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_data_submissions_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_submissions'))
    )
    op.create_index(op.f('ix_data_submissions_contract_id'), 'data_submissions', ['contract_id'], unique=False)
    op.create_index(op.f('ix_data_submissions_due_on'), 'data_submissions', ['due_on'], unique=False)
    op.create_index(op.f('ix_data_submissions_municipality_id'), 'data_submissions', ['municipality_id'], unique=False)
    op.create_index('ix_data_submissions_period', 'data_submissions', ['period_start', 'municipality_id'], unique=False)
    op.create_index('uq_data_submissions_scope_period', 'data_submissions', ['municipality_id', sa.literal_column('coalesce(contract_id, 0)'), 'period_start'], unique=True)
    op.create_table('submission_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("source IN ('form', 'upload')", name=op.f('ck_submission_values_source_known')),
    sa.CheckConstraint('value IS NOT NULL OR note IS NOT NULL', name=op.f('ck_submission_values_value_or_note')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicators.id'], name=op.f('fk_submission_values_indicator_id_indicators'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['submission_id'], ['data_submissions.id'], name=op.f('fk_submission_values_submission_id_data_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_values')),
    sa.UniqueConstraint('submission_id', 'indicator_id', name='uq_submission_values_indicator')
    )
    op.create_index(op.f('ix_submission_values_indicator_id'), 'submission_values', ['indicator_id'], unique=False)
    op.create_index(op.f('ix_submission_values_submission_id'), 'submission_values', ['submission_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submission_values_submission_id'), table_name='submission_values')
    op.drop_index(op.f('ix_submission_values_indicator_id'), table_name='submission_values')
    op.drop_table('submission_values')
    op.drop_index('uq_data_submissions_scope_period', table_name='data_submissions')
    op.drop_index('ix_data_submissions_period', table_name='data_submissions')
    op.drop_index(op.f('ix_data_submissions_municipality_id'), table_name='data_submissions')
    op.drop_index(op.f('ix_data_submissions_due_on'), table_name='data_submissions')
    op.drop_index(op.f('ix_data_submissions_contract_id'), table_name='data_submissions')
    op.drop_table('data_submissions')
