"""reporting event outbox

Revision ID: e4f1a9c3b2d7
Revises: d8e3f1a27c64
Create Date: 2026-12-04 20:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'e4f1a9c3b2d7'
down_revision: Union[str, None] = 'd8e3f1a27c64'
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
