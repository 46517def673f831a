"""notice outbox (approval requests published with the opening of their step)

Revision ID: d4e8a1f6b203
Revises: c9b2e7d4f1a3
Create Date: 2026-12-06 23:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'd4e8a1f6b203'
down_revision: Union[str, None] = 'c9b2e7d4f1a3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'notice_outbox',
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('event_id', sa.String(length=300), nullable=False),
        sa.Column('event', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('notice_outbox')
