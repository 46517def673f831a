"""identity_link.platform_user_id: the person's userid on an IM platform (personal notices)

Revision ID: 5e8b2c7d91a4
Revises: fea708ecdbd6
Create Date: 2026-12-03 14:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '5e8b2c7d91a4'
down_revision: Union[str, None] = 'fea708ecdbd6'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('identity_link') as batch:
        batch.add_column(sa.Column('platform_user_id', sa.String(length=200), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('identity_link') as batch:
        batch.drop_column('platform_user_id')
