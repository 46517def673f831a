"""project: the blocking key's index also orders by (created_at, id)

A collision check reads the newest SIMILAR_CANDIDATES live rows of the customer's similar-name
blocking key; with the key alone indexed, a large bucket (many customers sharing a city prefix)
was read whole and sorted on every create and submit. The new index serves the key look-ups the
old one did (its first column), so the old one is dropped.

Revision ID: a3f7c1e9b524
Revises: e4f1a9c3b2d7
Create Date: 2026-12-05 22:30:00
"""
from typing import Sequence, Union

from alembic import op


revision: str = 'a3f7c1e9b524'
down_revision: Union[str, None] = 'e4f1a9c3b2d7'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_project_customer_name_key_created_at', 'project',
                    ['customer_name_key', 'created_at', 'id'], unique=False)
    op.drop_index('ix_project_customer_name_key', table_name='project')


def downgrade() -> None:
    op.create_index('ix_project_customer_name_key', 'project', ['customer_name_key'], unique=False)
    op.drop_index('ix_project_customer_name_key_created_at', table_name='project')
