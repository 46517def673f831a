"""project comments: threads anchored at the project, an approval step or a task, with @mentions

Revision ID: fea708ecdbd6
Revises: 7c3e91b4d2a6
Create Date: 2026-12-03 13:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'fea708ecdbd6'
down_revision: Union[str, None] = '7c3e91b4d2a6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('project_comment',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('project_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('anchor', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('author_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('mentions', sa.JSON(), nullable=False),
    sa.Column('parent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reply_to_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('project_comment', schema=None) as batch_op:
        batch_op.create_index('ix_project_comment_project', ['project_id', 'parent_id', 'created_at', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('project_comment', schema=None) as batch_op:
        batch_op.drop_index('ix_project_comment_project')

    op.drop_table('project_comment')
