"""petitions: drafts and archives, goals that step up, when one closed

``petition.state`` also holds "draft" and "archived" now (a string column:
no schema change for that); ``goal_mode`` is "fixed" (every existing
petition) or "stepping"; ``closed_at`` is when a petition last closed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'goal_mode',
                sa.Enum('fixed', 'stepping', name='goalmode', native_enum=False, length=20),
                server_default='fixed',
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    # Drafts and archives were not states before: a draft goes back to
    # closed (not public), an archived petition to closed.
    op.execute(
        "UPDATE petition SET state = 'closed' WHERE state IN ('draft', 'archived')"
    )
    with op.batch_alter_table('petition', schema=None) as batch_op:
        batch_op.drop_column('closed_at')
        batch_op.drop_column('goal_mode')
