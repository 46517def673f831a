"""reporting event outbox

Revision ID: c9b2e7d4f1a3
Revises: a7c3e5f10b42
Create Date: 2026-12-04 20:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'c9b2e7d4f1a3'
down_revision: Union[str, None] = 'a7c3e5f10b42'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'event_outbox',
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('event_id', sa.String(length=300), nullable=False),
        sa.Column('event', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('event_outbox')
