"""social assets assignments reports

Revision ID: 8c0000000003
Revises: 8b0000000002
Create Date: 2026-11-26
"""
from alembic import op
import sqlalchemy as sa
import srpp.core.db


revision = '8c0000000003'
down_revision = '8b0000000002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('social_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=250), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('settlement', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('premises', 'outdoor_area', 'land', 'equipment', name='assetkind', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('area_m2', sa.Numeric(precision=10, scale=2), nullable=True),
    sa.Column('condition', sa.Enum('good', 'fair', 'needs_repair', name='assetcondition', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('accessibility', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('eligibility_criteria', sa.Text(), nullable=False),
    sa.Column('impact_criteria', sa.Text(), nullable=False),
    sa.Column('maintenance_duties', sa.Text(), nullable=False),
    sa.Column('permitted_adaptations', sa.Text(), nullable=True),
    sa.Column('yearly_running_cost', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('hours_available_per_year', sa.Integer(), nullable=True),
    sa.Column('available_from', sa.Date(), nullable=True),
    sa.Column('state', sa.Enum('available', 'assigned', 'returned', 'withdrawn', name='assetstate', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('area_m2 IS NULL OR area_m2 > 0', name=op.f('ck_social_assets_area_positive')),
    sa.CheckConstraint('hours_available_per_year IS NULL OR (hours_available_per_year > 0 AND hours_available_per_year <= 8784)', name=op.f('ck_social_assets_hours_per_year_range')),
    sa.CheckConstraint('yearly_running_cost >= 0', name=op.f('ck_social_assets_running_cost_nonnegative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_social_assets_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_social_assets_municipality_id_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_assets'))
    )
    op.create_index(op.f('ix_social_assets_municipality_id'), 'social_assets', ['municipality_id'], unique=False)
    op.create_table('social_asset_uses',
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=20), nullable=False),
    sa.CheckConstraint("area IN ('LTC', 'MOBILITY', 'HOUSING', 'YOUTH', 'DISABILITY', 'CROSS_CUTTING')", name=op.f('ck_social_asset_uses_area_known')),
    sa.ForeignKeyConstraint(['asset_id'], ['social_assets.id'], name=op.f('fk_social_asset_uses_asset_id_social_assets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('asset_id', 'area', name=op.f('pk_social_asset_uses'))
    )
    op.create_table('asset_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('agreement_ref', sa.String(length=100), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('obligations', sa.Text(), nullable=False),
    sa.Column('reporting_frequency', sa.Enum('annual', 'semiannual', name='reportingfrequency', native_enum=False, create_constraint=True, length=12), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=True),
    sa.Column('return_note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('end_date > start_date', name=op.f('ck_asset_assignments_period_ordered')),
    sa.CheckConstraint('returned_on IS NULL OR returned_on >= start_date', name=op.f('ck_asset_assignments_returned_after_start')),
    sa.ForeignKeyConstraint(['asset_id'], ['social_assets.id'], name=op.f('fk_asset_assignments_asset_id_social_assets')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_asset_assignments_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_asset_assignments_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['supplier_id'], ['suppliers.id'], name=op.f('fk_asset_assignments_supplier_id_suppliers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_assignments'))
    )
    op.create_index(op.f('ix_asset_assignments_asset_id'), 'asset_assignments', ['asset_id'], unique=False)
    op.create_index(op.f('ix_asset_assignments_municipality_id'), 'asset_assignments', ['municipality_id'], unique=False)
    op.create_index(op.f('ix_asset_assignments_supplier_id'), 'asset_assignments', ['supplier_id'], unique=False)
    op.create_index('uq_asset_assignments_active', 'asset_assignments', ['asset_id'], unique=True, postgresql_where=sa.text('returned_on IS NULL'), sqlite_where=sa.text('returned_on IS NULL'))
    op.create_table('asset_utilisation_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('hours_used', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('hours_available', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('unique_beneficiaries', sa.Integer(), nullable=False),
    sa.Column('costs_borne', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('activities', sa.Text(), nullable=True),
    sa.Column('submitted_as', sa.Enum('organisation', 'municipality', name='reportsubmitter', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', srpp.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('costs_borne >= 0', name=op.f('ck_asset_utilisation_reports_costs_nonnegative')),
    sa.CheckConstraint('hours_available > 0', name=op.f('ck_asset_utilisation_reports_hours_available_positive')),
    sa.CheckConstraint('hours_used <= hours_available', name=op.f('ck_asset_utilisation_reports_hours_used_within_available')),
    sa.CheckConstraint('hours_used >= 0', name=op.f('ck_asset_utilisation_reports_hours_used_nonnegative')),
    sa.CheckConstraint('part IN (0, 1, 2)', name=op.f('ck_asset_utilisation_reports_part_known')),
    sa.CheckConstraint('unique_beneficiaries >= 0', name=op.f('ck_asset_utilisation_reports_beneficiaries_nonnegative')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_asset_utilisation_reports_year_range')),
    sa.ForeignKeyConstraint(['assignment_id'], ['asset_assignments.id'], name=op.f('fk_asset_utilisation_reports_assignment_id_asset_assignments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_asset_utilisation_reports_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_asset_utilisation_reports_submitted_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_utilisation_reports')),
    sa.UniqueConstraint('assignment_id', 'year', 'part', name='uq_asset_utilisation_reports_period')
    )
    op.create_index(op.f('ix_asset_utilisation_reports_assignment_id'), 'asset_utilisation_reports', ['assignment_id'], unique=False)
    op.create_index(op.f('ix_asset_utilisation_reports_municipality_id'), 'asset_utilisation_reports', ['municipality_id'], unique=False)
    op.create_table('asset_audits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('audited_on', sa.Date(), nullable=False),
    sa.Column('utilisation_rate', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('corrective_actions', sa.Text(), nullable=True),
    sa.Column('auditor', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', srpp.core.db.UTCDateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('utilisation_rate IS NULL OR (utilisation_rate >= 0 AND utilisation_rate <= 100)', name=op.f('ck_asset_audits_rate_range')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_asset_audits_year_range')),
    sa.ForeignKeyConstraint(['asset_id'], ['social_assets.id'], name=op.f('fk_asset_audits_asset_id_social_assets')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_asset_audits_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_asset_audits_municipality_id_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_asset_audits')),
    sa.UniqueConstraint('asset_id', 'year', name='uq_asset_audits_asset_year')
    )
    op.create_index(op.f('ix_asset_audits_asset_id'), 'asset_audits', ['asset_id'], unique=False)
    op.create_index(op.f('ix_asset_audits_municipality_id'), 'asset_audits', ['municipality_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_asset_audits_municipality_id'), table_name='asset_audits')
    op.drop_index(op.f('ix_asset_audits_asset_id'), table_name='asset_audits')
    op.drop_table('asset_audits')
    op.drop_index(op.f('ix_asset_utilisation_reports_municipality_id'), table_name='asset_utilisation_reports')
    op.drop_index(op.f('ix_asset_utilisation_reports_assignment_id'), table_name='asset_utilisation_reports')
    op.drop_table('asset_utilisation_reports')
    op.drop_index('uq_asset_assignments_active', table_name='asset_assignments', postgresql_where=sa.text('returned_on IS NULL'), sqlite_where=sa.text('returned_on IS NULL'))
    op.drop_index(op.f('ix_asset_assignments_supplier_id'), table_name='asset_assignments')
    op.drop_index(op.f('ix_asset_assignments_municipality_id'), table_name='asset_assignments')
    op.drop_index(op.f('ix_asset_assignments_asset_id'), table_name='asset_assignments')
    op.drop_table('asset_assignments')
    op.drop_table('social_asset_uses')
    op.drop_index(op.f('ix_social_assets_municipality_id'), table_name='social_assets')
    op.drop_table('social_assets')
