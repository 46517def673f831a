"""branding: the company name and logo printed on documents

Revision ID: b7e41c0a9d52
Revises: 5e8b2c7d91a4
Create Date: 2026-12-03 14:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'b7e41c0a9d52'
down_revision: Union[str, None] = '5e8b2c7d91a4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('branding',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('company_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('logo', sa.LargeBinary(), nullable=True),
    sa.Column('logo_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('logo_width', sa.Integer(), nullable=False),
    sa.Column('logo_height', sa.Integer(), nullable=False),
    sa.Column('logo_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade() -> None:
    op.drop_table('branding')
