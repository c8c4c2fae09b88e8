"""operability: request ids on jobs, erased jobs, per-tenant retention, idempotency keys

Revision ID: 0009_retention
Revises: 0006_job_steps
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0009_retention'
down_revision = '0006_job_steps'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('request_id', sa.String(128), nullable=True))
        batch.add_column(sa.Column('erased_at', shared.models.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.create_index('ix_jobs_finished', ['finished_at'])
        batch.create_index('ix_jobs_idempotency_created', ['created_at'],
                           postgresql_where=sa.text('idempotency_key IS NOT NULL'),
                           sqlite_where=sa.text('idempotency_key IS NOT NULL'))
    with op.batch_alter_table('tenant_settings') as batch:
        batch.add_column(sa.Column('job_retention_days', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('delivery_retention_days', sa.Integer(), nullable=True))
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.create_index('ix_webhook_deliveries_finished', ['finished_at'])
    op.create_table('idempotency_keys',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('scope', sa.String(200), nullable=False),
    sa.Column('key', sa.String(255), nullable=False),
    sa.Column('request_hash', sa.String(64), nullable=False),
    sa.Column('response', shared.models.JSONDocument, nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('created_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'scope', 'key')
    )
    op.create_index('ix_idempotency_keys_created', 'idempotency_keys', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_idempotency_keys_created', table_name='idempotency_keys')
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('webhook_deliveries') as batch:
        batch.drop_index('ix_webhook_deliveries_finished')
    with op.batch_alter_table('tenant_settings') as batch:
        batch.drop_column('delivery_retention_days')
        batch.drop_column('job_retention_days')
    with op.batch_alter_table('jobs') as batch:
        batch.drop_index('ix_jobs_idempotency_created')
        batch.drop_index('ix_jobs_finished')
        batch.drop_column('erased_at')
        batch.drop_column('request_id')
