"""risks reviews actions targets: the risk register (risks, their monitoring indicator codes, reviews,
corrective actions, the alert history) and the regional programme targets

Revision ID: 8b0000000002
Revises: 8a0000000001
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import srpp.core.db


revision = '8b0000000002'
down_revision = '8a0000000001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('programme_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('horizon', sa.Enum('immediate', 'short', 'medium', name='horizon', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('title_lt', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('hint_lt', sa.Text(), nullable=True),
    sa.Column('hint_en', sa.Text(), nullable=True),
    sa.Column('due_months', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('done_evidence', sa.Text(), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('done_on IS NULL OR done_evidence IS NOT NULL', name=op.f('ck_programme_targets_done_has_evidence')),
    sa.CheckConstraint('due_months BETWEEN 0 AND 120', name=op.f('ck_programme_targets_due_months_range')),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_programme_targets_done_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_targets')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_targets_code'))
    )
    op.create_table('risks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('area_lt', sa.String(length=200), nullable=False),
    sa.Column('area_en', sa.String(length=200), nullable=False),
    sa.Column('title_lt', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('description_lt', sa.Text(), nullable=False),
    sa.Column('description_en', sa.Text(), nullable=False),
    sa.Column('mitigation_lt', sa.Text(), nullable=False),
    sa.Column('mitigation_en', sa.Text(), nullable=False),
    sa.Column('owner_text_lt', sa.String(length=200), nullable=False),
    sa.Column('owner_text_en', sa.String(length=200), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('initial_likelihood', sa.Enum('low', 'medium', 'high', name='initial_likelihood', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('initial_impact', sa.Enum('low', 'medium', 'high', name='initial_impact', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('likelihood', sa.Enum('low', 'medium', 'high', name='likelihood', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('impact', sa.Enum('low', 'medium', 'high', name='impact', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_risks_owner_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risks')),
    sa.UniqueConstraint('code', name=op.f('uq_risks_code'))
    )
    op.create_index(op.f('ix_risks_owner_user_id'), 'risks', ['owner_user_id'], unique=False)
    op.create_table('risk_alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('indicator_code', sa.String(length=40), nullable=False),
    sa.Column('scope_key', sa.String(length=20), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('value', sa.Numeric(precision=18, scale=4), nullable=True),
    sa.Column('raised_at', srpp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', srpp.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_risk_alerts_municipality_id_municipalities'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_alerts_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_alerts')),
    sa.UniqueConstraint('risk_id', 'indicator_code', 'scope_key', 'period_start', name='uq_risk_alerts_key')
    )
    op.create_index('ix_risk_alerts_open', 'risk_alerts', ['risk_id', 'closed_at'], unique=False)
    op.create_index(op.f('ix_risk_alerts_risk_id'), 'risk_alerts', ['risk_id'], unique=False)
    op.create_table('risk_indicators',
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('indicator_code', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_indicators_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('risk_id', 'indicator_code', name=op.f('pk_risk_indicators'))
    )
    op.create_index(op.f('ix_risk_indicators_indicator_code'), 'risk_indicators', ['indicator_code'], unique=False)
    op.create_table('risk_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_on', sa.Date(), nullable=False),
    sa.Column('likelihood', sa.Enum('low', 'medium', 'high', name='likelihood', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('impact', sa.Enum('low', 'medium', 'high', name='impact', native_enum=False, create_constraint=True, length=10), nullable=False),
    sa.Column('preventive_measures', sa.Text(), nullable=True),
    sa.Column('reactive_action', sa.Text(), nullable=True),
    sa.Column('responsible_unit', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("preventive_measures IS NOT NULL OR (likelihood = 'low' AND impact IN ('low', 'medium')) OR (likelihood = 'medium' AND impact = 'low')", name=op.f('ck_risk_reviews_preventive_for_medium_high')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_risk_reviews_reviewer_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_risk_reviews_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_reviews'))
    )
    op.create_index(op.f('ix_risk_reviews_risk_id'), 'risk_reviews', ['risk_id'], unique=False)
    op.create_table('corrective_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('risk_id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('owner_text', sa.String(length=200), nullable=False),
    sa.Column('owner_user_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('completion_note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_corrective_actions_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_user_id'], ['users.id'], name=op.f('fk_corrective_actions_owner_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['risk_reviews.id'], name=op.f('fk_corrective_actions_review_id_risk_reviews'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['risk_id'], ['risks.id'], name=op.f('fk_corrective_actions_risk_id_risks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_actions'))
    )
    op.create_index(op.f('ix_corrective_actions_owner_user_id'), 'corrective_actions', ['owner_user_id'], unique=False)
    op.create_index(op.f('ix_corrective_actions_review_id'), 'corrective_actions', ['review_id'], unique=False)
    op.create_index(op.f('ix_corrective_actions_risk_id'), 'corrective_actions', ['risk_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_corrective_actions_risk_id'), table_name='corrective_actions')
    op.drop_index(op.f('ix_corrective_actions_review_id'), table_name='corrective_actions')
    op.drop_index(op.f('ix_corrective_actions_owner_user_id'), table_name='corrective_actions')
    op.drop_table('corrective_actions')
    op.drop_index(op.f('ix_risk_reviews_risk_id'), table_name='risk_reviews')
    op.drop_table('risk_reviews')
    op.drop_index(op.f('ix_risk_indicators_indicator_code'), table_name='risk_indicators')
    op.drop_table('risk_indicators')
    op.drop_index(op.f('ix_risk_alerts_risk_id'), table_name='risk_alerts')
    op.drop_index('ix_risk_alerts_open', table_name='risk_alerts')
    op.drop_table('risk_alerts')
    op.drop_index(op.f('ix_risks_owner_user_id'), table_name='risks')
    op.drop_table('risks')
    op.drop_table('programme_targets')
