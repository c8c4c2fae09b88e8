"""multi-step jobs: the step a job is at and what earlier steps handed over

Revision ID: 0006_job_steps
Revises: 0005_tenant_settings
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0006_job_steps'
down_revision = '0005_tenant_settings'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('step', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('step_state', shared.models.JSONDocument, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as batch:
        batch.drop_column('step_state')
        batch.drop_column('step')
