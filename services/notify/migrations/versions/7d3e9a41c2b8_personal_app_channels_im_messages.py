"""personal notices through enterprise apps: app fields of channels, im_message, im_task

Revision ID: 7d3e9a41c2b8
Revises: 2503a1fff22b
Create Date: 2026-12-03 13:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '7d3e9a41c2b8'
down_revision: Union[str, None] = '2503a1fff22b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('robot_channel') as batch:
        batch.add_column(sa.Column('app_key', sa.String(length=200), nullable=False, server_default=''))
        batch.add_column(sa.Column('agent_id', sa.String(length=100), nullable=False, server_default=''))
        batch.add_column(sa.Column('api_base', sa.String(length=2000), nullable=False, server_default=''))
        batch.add_column(sa.Column('options', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table(
        'im_message',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('channel_key', sa.String(length=100), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('recipient_id', sa.String(length=100), nullable=False),
        sa.Column('platform_user', sa.String(length=200), nullable=False),
        sa.Column('task_id', sa.String(length=100), nullable=False),
        sa.Column('project_id', sa.String(length=100), nullable=False),
        sa.Column('message_ref', sa.String(length=2000), nullable=False),
        sa.Column('todo_ref', sa.String(length=2000), nullable=False),
        sa.Column('title', sa.String(length=500), nullable=False),
        sa.Column('markdown', sa.Text(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('close_delivery_id', sa.String(length=36), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_im_message_task_state', 'im_message', ['task_id', 'state'])
    op.create_table(
        'im_task',
        sa.Column('task_id', sa.String(length=100), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('actor_id', sa.String(length=100), nullable=False),
        sa.Column('actor_name', sa.String(length=200), nullable=False),
        sa.Column('project_id', sa.String(length=100), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('task_id'),
    )


def downgrade() -> None:
    op.drop_table('im_task')
    op.drop_index('ix_im_message_task_state', table_name='im_message')
    op.drop_table('im_message')
    with op.batch_alter_table('robot_channel') as batch:
        batch.drop_column('options')
        batch.drop_column('api_base')
        batch.drop_column('agent_id')
        batch.drop_column('app_key')
