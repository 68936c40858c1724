"""signatures by petition and time: the dashboard's trending addresses

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 15:00:00.000000

(The email domain's key the trending domains group by comes with the
encrypted schema, 0021, which computes it from each address.)
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.create_index(
            'ix_signature_petition_created', ['petition_id', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_petition_created')
