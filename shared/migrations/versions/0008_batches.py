"""batches: many jobs in one request, their jobs' batch id and custom id, batch webhooks

Revision ID: 0008_batches
Revises: 0009_retention
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0008_batches'
down_revision = '0009_retention'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('invalid_lines', shared.models.JSONDocument, nullable=False),
    sa.Column('webhook', shared.models.JSONDocument, nullable=True),
    sa.Column('job_events', shared.models.JSONDocument, nullable=True),
    sa.Column('retry_of', sa.Uuid(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', shared.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'idempotency_key', name='uq_batches_tenant_idempotency')
    )
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_status', ['status'], unique=False)
        batch_op.create_index('ix_batches_tenant_created', ['tenant_id', 'created_at', 'id'],
                              unique=False)

    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('custom_id', sa.String(length=255), nullable=True))
        batch_op.create_foreign_key('fk_jobs_batch_id', 'batches', ['batch_id'], ['id'],
                                    ondelete='CASCADE')
        batch_op.create_unique_constraint('uq_jobs_batch_custom_id', ['batch_id', 'custom_id'])
        batch_op.create_index('ix_jobs_batch_status', ['batch_id', 'status'], unique=False)

    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('job_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key('fk_webhook_deliveries_batch_id', 'batches', ['batch_id'],
                                    ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_constraint('fk_webhook_deliveries_batch_id', type_='foreignkey')
        batch_op.alter_column('job_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('batch_id')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_batch_status')
        batch_op.drop_constraint('uq_jobs_batch_custom_id', type_='unique')
        batch_op.drop_constraint('fk_jobs_batch_id', type_='foreignkey')
        batch_op.drop_column('custom_id')
        batch_op.drop_column('batch_id')
    op.drop_index('ix_batches_tenant_created', table_name='batches')
    op.drop_index('ix_batches_status', table_name='batches')
    op.drop_table('batches')
