"""moderation undo (hidden names, removal keys) and petition PDFs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('name_hidden', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('removal', sa.String(length=32), nullable=True))
        batch_op.create_index(batch_op.f('ix_signature_removal'), ['removal'], unique=False)

    op.create_table(
        'petition_pdf',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('petition_id', sa.Integer(), nullable=False),
        sa.Column('organiser_id', sa.Integer(), nullable=True),
        sa.Column(
            'state',
            sa.Enum('queued', 'working', 'done', 'failed', name='pdfstate', native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column('locale', sa.String(length=16), nullable=False),
        sa.Column('signers', sa.Integer(), nullable=True),
        sa.Column('content', sa.LargeBinary(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['organiser_id'], ['organiser.id']),
        sa.ForeignKeyConstraint(['petition_id'], ['petition.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    with op.batch_alter_table('petition_pdf', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petition_pdf_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_petition_pdf_petition_id'), ['petition_id'], unique=False)


def downgrade():
    with op.batch_alter_table('petition_pdf', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petition_pdf_petition_id'))
        batch_op.drop_index(batch_op.f('ix_petition_pdf_created_at'))
    op.drop_table('petition_pdf')
    with op.batch_alter_table('signature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signature_removal'))
        batch_op.drop_column('removal')
        batch_op.drop_column('name_hidden')
