"""catalogs

Revision ID: 0003_catalogs
Revises: 0002_job_progress
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0003_catalogs'
down_revision = '0002_job_progress'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('catalogs',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('events_version', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'name', name='uq_catalogs_tenant_name')
    )
    op.create_table('catalog_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('catalog_id', sa.Uuid(), nullable=False),
    sa.Column('shopper_id', sa.String(length=200), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('occurred_at', shared.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['catalog_id'], ['catalogs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('catalog_events', schema=None) as batch_op:
        batch_op.create_index(
            'ix_catalog_events_catalog', ['catalog_id', 'shopper_id'], unique=False
        )

    op.create_table('catalog_items',
    sa.Column('catalog_id', sa.Uuid(), nullable=False),
    sa.Column('item_id', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('brand', sa.String(length=200), nullable=True),
    sa.Column('category', sa.String(length=500), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('price', sa.Float(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('in_stock', sa.Boolean(), nullable=False),
    sa.Column('popularity', sa.Float(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('embedded_hash', sa.String(length=64), nullable=True),
    sa.Column('embedding', sa.LargeBinary(), nullable=True),
    sa.Column('updated_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['catalog_id'], ['catalogs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('catalog_id', 'item_id')
    )


def downgrade() -> None:
    op.drop_table('catalog_items')
    with op.batch_alter_table('catalog_events', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_events_catalog')

    op.drop_table('catalog_events')
    op.drop_table('catalogs')
