"""organiser sessions server-side, two-factor sign-in, site settings

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('organiser_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_organiser_session_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organiser_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_organiser_session_token_hash'))
    )
    with op.batch_alter_table('organiser_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organiser_session_organiser_id'), ['organiser_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_organiser_session_last_seen_at'), ['last_seen_at'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_recovery_code_organiser_id_organiser'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('setting',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_setting'))
    )

    # Sessions now live in organiser_session: every cookie signed before this
    # revision names a token that no longer exists, so everyone signs in again.
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('two_factor_on', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.drop_constraint(batch_op.f('uq_organiser_session_token'), type_='unique')
        batch_op.drop_column('session_token')
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.alter_column('two_factor_on', server_default=None)


def downgrade():
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=64), nullable=True))
    # A fresh random token per account (the old revision's sessions are gone).
    if op.get_context().dialect.name == 'postgresql':
        op.execute("UPDATE organiser SET session_token = md5(random()::text || id::text)")
    else:
        op.execute("UPDATE organiser SET session_token = lower(hex(randomblob(24)))")
    with op.batch_alter_table('organiser', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_organiser_session_token'), ['session_token'])
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('two_factor_on')
        batch_op.drop_column('totp_secret')

    op.drop_table('setting')
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_organiser_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('organiser_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organiser_session_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_organiser_session_organiser_id'))
    op.drop_table('organiser_session')
