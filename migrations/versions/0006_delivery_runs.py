"""delivery runs: a run's claim and progress on a row of its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_run',
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('first', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.Column('handed', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Integer(), nullable=False),
    sa.Column('heartbeat', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], name=op.f('fk_delivery_run_broadcast_id_broadcast'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_delivery_run'))
    )
    with op.batch_alter_table('delivery_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_run_broadcast_id'), ['broadcast_id'], unique=False)

    # Copies a run had marked "sending" may have gone out: never resend them.
    op.execute("UPDATE delivery SET state = 'unknown', claim = NULL WHERE state = 'sending'")
    op.execute("UPDATE delivery SET claim = NULL WHERE claim IS NOT NULL")
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_claim'))
        batch_op.drop_index('ix_delivery_broadcast_state')
        batch_op.create_index('ix_delivery_broadcast_state', ['broadcast_id', 'state', 'id'], unique=False)
        batch_op.drop_column('claimed_at')
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE delivery SET (fillfactor = 80)')


def downgrade():
    if op.get_context().dialect.name == 'postgresql':
        op.execute('ALTER TABLE delivery RESET (fillfactor)')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index('ix_delivery_broadcast_state')
        batch_op.create_index('ix_delivery_broadcast_state', ['broadcast_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_claim'), ['claim'], unique=False)
    op.execute("UPDATE delivery SET claim = NULL WHERE claim IS NOT NULL")

    with op.batch_alter_table('delivery_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_run_broadcast_id'))

    op.drop_table('delivery_run')
