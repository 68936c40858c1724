"""signatures by petition and time, and by email domain: the dashboard's
trending addresses and domains

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 15:00:00.000000

The domain key is a keyed hash of each signature's email domain
(campaign.encryption.domain_hash, under HASH_KEY); existing rows get theirs
from the address they hold.
"""
from alembic import op
import sqlalchemy as sa

from campaign.encryption import domain_hash


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain_key', sa.String(length=64), nullable=True))
        batch_op.create_index(
            'ix_signature_petition_created', ['petition_id', 'created_at'], unique=False
        )
        batch_op.create_index('ix_signature_domain_key', ['domain_key'], unique=False)
    connection = op.get_bind()
    signature = sa.table(
        'signature', sa.column('id'), sa.column('email'), sa.column('domain_key')
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(signature.c.id, signature.c.email)
            .where(signature.c.id > last)
            .order_by(signature.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.email:
                connection.execute(
                    signature.update()
                    .where(signature.c.id == row.id)
                    .values(domain_key=domain_hash(row.email))
                )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index('ix_signature_domain_key')
        batch_op.drop_index('ix_signature_petition_created')
        batch_op.drop_column('domain_key')
