"""cost voucher: finance vouchers booked as costs, once per source and voucher id

Revision ID: a7c4e2f19d36
Revises: 5527d36cfe1e
Create Date: 2026-12-01 14:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'a7c4e2f19d36'
down_revision: Union[str, None] = '5527d36cfe1e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('cost_voucher',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('voucher_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('cost_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('project_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('source', 'voucher_id')
    )
    with op.batch_alter_table('cost_voucher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cost_voucher_project_id'), ['project_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cost_voucher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cost_voucher_project_id'))
    op.drop_table('cost_voucher')
