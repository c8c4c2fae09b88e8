"""jobs.progress: tokens generated so far while a generation job runs

Revision ID: 0002_job_progress
Revises: 0001_initial
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_job_progress"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.add_column(sa.Column(
            "progress", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("progress")
