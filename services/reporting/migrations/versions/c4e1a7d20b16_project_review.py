"""project review (复盘)

Revision ID: c4e1a7d20b16
Revises: f132cef6316e
Create Date: 2026-11-27 16:50:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'c4e1a7d20b16'
down_revision: Union[str, None] = 'f132cef6316e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('project_review',
    sa.Column('project_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('lessons', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('delay_summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('event_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.PrimaryKeyConstraint('project_id')
    )
    with op.batch_alter_table('project_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_review_outcome'), ['outcome'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('project_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_review_outcome'))

    op.drop_table('project_review')
