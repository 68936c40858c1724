"""re-render stored story and petition HTML through the sanitiser

Story and petition pages serve ``body_html``, rendered when the text was
saved. Text saved before organiser Markdown went through nh3 may hold
scripts or event handlers; this renders every row again from its Markdown.
There is nothing to undo: the downgrade leaves the safe HTML in place.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa

from campaign.text import render_markdown


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    for name in ('story', 'petition'):
        table = sa.table(
            name,
            sa.column('id', sa.Integer),
            sa.column('body_markdown', sa.Text),
            sa.column('body_html', sa.Text),
        )
        rows = connection.execute(sa.select(table.c.id, table.c.body_markdown))
        for row_id, markdown in rows.all():
            connection.execute(
                table.update()
                .where(table.c.id == row_id)
                .values(body_html=render_markdown(markdown or ''))
            )


def downgrade():
    pass
