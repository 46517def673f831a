"""project team: pm, members and observers per project

Revision ID: c4a9e2f17b30
Revises: b7e41c0a9d52
Create Date: 2026-12-05 16:40:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'c4a9e2f17b30'
down_revision: Union[str, None] = 'b7e41c0a9d52'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('project_team',
    sa.Column('project_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('project_id', 'user_id')
    )
    op.create_index(op.f('ix_project_team_user_id'), 'project_team', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_project_team_user_id'), table_name='project_team')
    op.drop_table('project_team')
