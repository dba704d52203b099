"""impact reports: the document kind "impact_report" and its subject type "impact_year"

Revision ID: 8e0000000005
Revises: 8d0000000004
Create Date: 2026-11-26
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import srpp.core.db  # noqa: F401


revision = '8e0000000005'
down_revision = '8d0000000004'
branch_labels = None
depends_on = None

OLD_KINDS = ("'tender_specification', 'reserved_lot_notice', 'framework_agreement', 'call_off_order', "
             "'implementation_note', 'handbook', 'payment_report'")
OLD_SUBJECTS = "'tender', 'lot', 'framework', 'call_off', 'municipality', 'region', 'payment_report'"


def upgrade() -> None:
    with op.batch_alter_table('generated_documents') as batch:
        batch.drop_constraint(op.f('ck_generated_documents_kind_known'), type_='check')
        batch.drop_constraint(op.f('ck_generated_documents_subject_known'), type_='check')
        batch.create_check_constraint('kind_known', f"kind IN ({OLD_KINDS}, 'impact_report')")
        batch.create_check_constraint('subject_known', f"subject_type IN ({OLD_SUBJECTS}, 'impact_year')")


def downgrade() -> None:
    op.execute("DELETE FROM generated_documents WHERE kind = 'impact_report' OR subject_type = 'impact_year'")
    with op.batch_alter_table('generated_documents') as batch:
        batch.drop_constraint(op.f('ck_generated_documents_kind_known'), type_='check')
        batch.drop_constraint(op.f('ck_generated_documents_subject_known'), type_='check')
        batch.create_check_constraint('kind_known', f"kind IN ({OLD_KINDS})")
        batch.create_check_constraint('subject_known', f"subject_type IN ({OLD_SUBJECTS})")
