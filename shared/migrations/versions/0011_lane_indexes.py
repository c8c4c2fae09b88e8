"""fair share and queue positions read indexes, not rows

The in-flight count under a tenant's cap (on every submission and release) scanned every
queued row of the tenant and read each one for its enqueued_at: with a tenant's 2,000 jobs
held, the submission's insert took 3.4 ms instead of 0.1. (tenant_id, status, enqueued_at)
serves it as two short ranges, and the active-jobs quota as (tenant_id, status) did. A held
job's place in its lane counts the lane's queued jobs per tenant from an index alone.

Revision ID: 0011_lane_indexes
Revises: 0010_recommender_models
Create Date: 2026-11-29
"""

from alembic import op

revision = '0011_lane_indexes'
down_revision = '0010_recommender_models'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_jobs_tenant_status_enqueued', 'jobs',
                    ['tenant_id', 'status', 'enqueued_at'])
    op.drop_index('ix_jobs_tenant_status', table_name='jobs')
    op.create_index('ix_jobs_lane_position', 'jobs',
                    ['status', 'type', 'tenant_id', 'enqueued_at', 'priority', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_lane_position', table_name='jobs')
    op.create_index('ix_jobs_tenant_status', 'jobs', ['tenant_id', 'status'])
    op.drop_index('ix_jobs_tenant_status_enqueued', table_name='jobs')
