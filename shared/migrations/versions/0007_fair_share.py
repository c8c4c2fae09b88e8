"""fair share: per-tenant limits, worker heartbeats, catalog embedding rate, job lane index

Revision ID: 0007_fair_share
Revises: 0008_batches
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0007_fair_share'
down_revision = '0008_batches'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenant_limits',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('submit_rate', sa.Float(), nullable=True),
    sa.Column('submit_burst', sa.Integer(), nullable=True),
    sa.Column('max_active_jobs', sa.Integer(), nullable=True),
    sa.Column('max_priority', sa.Integer(), nullable=True),
    sa.Column('updated_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id')
    )
    op.create_table('worker_heartbeats',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('queues', sa.String(length=255), nullable=False),
    sa.Column('started_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('host', 'pid')
    )
    op.add_column('catalogs', sa.Column('embedding_rate', sa.Float(), nullable=True))
    op.add_column('catalogs', sa.Column('embedding_lease', sa.String(length=36), nullable=True))
    op.add_column('catalogs', sa.Column('embedding_lease_until',
                                        shared.models.UTCDateTime(timezone=True), nullable=True))
    op.create_index('ix_jobs_tenant_status', 'jobs', ['tenant_id', 'status'])
    op.create_index('ix_jobs_status_finished', 'jobs', ['status', 'finished_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_status_finished', table_name='jobs')
    op.drop_index('ix_jobs_tenant_status', table_name='jobs')
    op.drop_column('catalogs', 'embedding_lease_until')
    op.drop_column('catalogs', 'embedding_lease')
    op.drop_column('catalogs', 'embedding_rate')
    op.drop_table('worker_heartbeats')
    op.drop_table('tenant_limits')
