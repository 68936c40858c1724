"""mailing list: broadcast segments, attested consents, lookup indexes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.add_column(sa.Column('segment_locale', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('segment_country', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('segment_source', sa.String(length=160), nullable=True))
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('attested', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f('ix_consent_source'), ['source'], unique=False)
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriber_country'), ['country'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriber_locale'), ['locale'], unique=False)


def downgrade():
    with op.batch_alter_table('subscriber', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriber_locale'))
        batch_op.drop_index(batch_op.f('ix_subscriber_country'))
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_source'))
        batch_op.drop_column('attested')
    with op.batch_alter_table('broadcast', schema=None) as batch_op:
        batch_op.drop_column('segment_source')
        batch_op.drop_column('segment_country')
        batch_op.drop_column('segment_locale')
