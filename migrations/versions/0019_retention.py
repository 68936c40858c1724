"""retention runs and the client-address key windows' salts

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'client_key_window',
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('starts_at'),
    )
    op.create_table(
        'retention_run',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade():
    op.drop_table('retention_run')
    op.drop_table('client_key_window')
