"""recommender models: trained sequential models per catalog, and the catalog's newest

Revision ID: 0010_recommender_models
Revises: 0007_fair_share
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

import shared.models

revision = '0010_recommender_models'
down_revision = '0007_fair_share'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recommender_models',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('catalog_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', shared.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('config', shared.models.JSONDocument, nullable=False),
    sa.Column('item_ids', shared.models.JSONDocument, nullable=False),
    sa.Column('metrics', shared.models.JSONDocument, nullable=False),
    sa.Column('blend', shared.models.JSONDocument, nullable=False),
    sa.Column('training_seconds', sa.Float(), nullable=False),
    sa.Column('weights', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['catalog_id'], ['catalogs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('catalog_id', 'version', name='uq_recommender_models_version')
    )
    with op.batch_alter_table('catalogs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recommender_version', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('catalogs', schema=None) as batch_op:
        batch_op.drop_column('recommender_version')
    op.drop_table('recommender_models')
