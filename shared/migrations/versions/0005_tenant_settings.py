"""tenant settings: stored social reply texts and the raw-input opt-in

Revision ID: 0005_tenant_settings
Revises: 0004_webhooks
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0005_tenant_settings'
down_revision = '0004_webhooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenant_settings',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('replies', shared.models.JSONDocument, nullable=True),
    sa.Column('store_raw_input', sa.Boolean(), nullable=False),
    sa.Column('updated_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id')
    )


def downgrade() -> None:
    op.drop_table('tenant_settings')
