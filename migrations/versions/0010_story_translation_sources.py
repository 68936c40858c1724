"""story translations name the sources in their own script

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 03:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('story_translation', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('sources', sa.JSON(), server_default='[]', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('story_translation', schema=None) as batch_op:
        batch_op.drop_column('sources')
