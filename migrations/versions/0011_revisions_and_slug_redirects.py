"""content history and slug redirects

Every saved version of a story's or petition's words (who, when, which
language), and the old slugs that keep redirecting after a rename.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('content_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('baseline', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id'], name=op.f('fk_content_revision_organiser_id_organiser'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_revision'))
    )
    with op.batch_alter_table('content_revision', schema=None) as batch_op:
        batch_op.create_index('ix_content_revision_object', ['kind', 'object_id', 'locale', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_content_revision_organiser_id'), ['organiser_id'], unique=False)

    op.create_table('slug_redirect',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('old_slug', sa.String(length=120), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slug_redirect')),
    sa.UniqueConstraint('kind', 'old_slug', name=op.f('uq_slug_redirect_kind_old_slug'))
    )
    with op.batch_alter_table('slug_redirect', schema=None) as batch_op:
        batch_op.create_index('ix_slug_redirect_object', ['kind', 'object_id'], unique=False)


def downgrade():
    with op.batch_alter_table('slug_redirect', schema=None) as batch_op:
        batch_op.drop_index('ix_slug_redirect_object')

    op.drop_table('slug_redirect')
    with op.batch_alter_table('content_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_revision_organiser_id'))
        batch_op.drop_index('ix_content_revision_object')

    op.drop_table('content_revision')
