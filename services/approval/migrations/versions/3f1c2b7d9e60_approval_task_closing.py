"""approval task closing outbox

Revision ID: 3f1c2b7d9e60
Revises: f3a1c0d2e9b7
Create Date: 2026-12-03 13:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '3f1c2b7d9e60'
down_revision: Union[str, None] = 'f3a1c0d2e9b7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'approval_task_closing',
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('task_id', sa.String(length=40), nullable=False),
        sa.Column('instance_id', sa.String(length=40), nullable=False),
        sa.Column('project_id', sa.String(length=100), nullable=False),
        sa.Column('approver_id', sa.String(length=100), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('relayed', sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index('ix_approval_task_closing_relayed', 'approval_task_closing', ['relayed'])


def downgrade() -> None:
    op.drop_index('ix_approval_task_closing_relayed', table_name='approval_task_closing')
    op.drop_table('approval_task_closing')
