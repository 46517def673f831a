"""robot_channel.show_amount: group cards hide the amount unless the admin allows it

Revision ID: c1a7e3b5d902
Revises: af1d7f467ade
Create Date: 2026-12-02 05:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'c1a7e3b5d902'
down_revision: Union[str, None] = 'af1d7f467ade'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('robot_channel') as batch:
        batch.add_column(sa.Column('show_amount', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('robot_channel') as batch:
        batch.drop_column('show_amount')
