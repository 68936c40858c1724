"""petition PDF progress: names laid out so far

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('petition_pdf', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('petition_pdf', schema=None) as batch_op:
        batch_op.drop_column('progress')
