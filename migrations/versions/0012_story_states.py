"""stories have a state: draft, published or archived

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 06:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

STATE = sa.Enum(
    'draft', 'published', 'archived', name='storystate', native_enum=False, length=20
)


def upgrade():
    # Every story before states existed was public: it stays published.
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('state', STATE, nullable=False, server_default='published')
        )
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.alter_column('state', server_default=None)
        batch_op.create_index(
            'ix_story_state_published_on', ['state', 'published_on'], unique=False
        )


def downgrade():
    with op.batch_alter_table('story', schema=None) as batch_op:
        batch_op.drop_index('ix_story_state_published_on')
        batch_op.drop_column('state')
