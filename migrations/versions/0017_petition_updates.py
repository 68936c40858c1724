"""petition updates: the signers' opt-in and its consent record, updates and
their language versions, and ledger rows that name a signature

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wants_updates', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('updates_stopped_at', sa.DateTime(timezone=True), nullable=True))

    op.create_table('signature_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('updates', 'list', name='consentpurpose', native_enum=False, length=20), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['signature_id'], ['signature.id'], name=op.f('fk_signature_consent_signature_id_signature'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signature_consent'))
    )
    with op.batch_alter_table('signature_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signature_consent_signature_id'), ['signature_id'], unique=False)

    op.create_table('petition_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('petition_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('broadcast_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcast.id'], name=op.f('fk_petition_update_broadcast_id_broadcast'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], name=op.f('fk_petition_update_petition_id_petition'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['posted_by_id'], ['organiser.id'], name=op.f('fk_petition_update_posted_by_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_update')),
    sa.UniqueConstraint('broadcast_id', name=op.f('uq_petition_update_broadcast_id'))
    )
    with op.batch_alter_table('petition_update', schema=None) as batch_op:
        batch_op.create_index('ix_petition_update_shown', ['petition_id', 'posted_at'], unique=False)

    op.create_table('petition_update_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['update_id'], ['petition_update.id'], name=op.f('fk_petition_update_version_update_id_petition_update'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_petition_update_version')),
    sa.UniqueConstraint('update_id', 'locale', name=op.f('uq_petition_update_version_update_id_locale'))
    )

    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signature_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_delivery_signature_id_signature'), 'signature', ['signature_id'], ['id'], ondelete='SET NULL')
        batch_op.create_unique_constraint(batch_op.f('uq_delivery_broadcast_id_signature_id'), ['broadcast_id', 'signature_id'])


def downgrade():
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_delivery_broadcast_id_signature_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_delivery_signature_id_signature'), type_='foreignkey')
        batch_op.drop_column('signature_id')

    op.drop_table('petition_update_version')
    with op.batch_alter_table('petition_update', schema=None) as batch_op:
        batch_op.drop_index('ix_petition_update_shown')
    op.drop_table('petition_update')
    with op.batch_alter_table('signature_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_consent_signature_id'))
    op.drop_table('signature_consent')

    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_column('updates_stopped_at')
        batch_op.drop_column('wants_updates')
