"""a lane's released jobs are counted from their own index range

A queued job's place counts the released jobs of its lane (sent to the broker, at most the
tenants' in-flight caps). From ix_jobs_lane_position, whose tenant_id comes before
enqueued_at, that count walked every queued job of the lane, held ones too: behind another
tenant's 100,000 held jobs, every other tenant's submission took 9-13 ms more on SQLite.
With enqueued_at right after the type, the released jobs are one short range.

Revision ID: 0012_lane_released_index
Revises: 0011_lane_indexes
Create Date: 2026-11-30
"""

from alembic import op

revision = '0012_lane_released_index'
down_revision = '0011_lane_indexes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_jobs_lane_released', 'jobs',
                    ['status', 'type', 'enqueued_at', 'priority', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_jobs_lane_released', table_name='jobs')
