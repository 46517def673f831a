"""change requests (变更) of active projects

Revision ID: d8e3f1a27c64
Revises: c5d2e8a91f37
Create Date: 2026-12-04 17:10:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'd8e3f1a27c64'
down_revision: Union[str, None] = 'c5d2e8a91f37'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'change_request',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('diff', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('reset_baseline', sa.Boolean(), nullable=False),
        sa.Column('requested_by', sa.String(length=100), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=False),
        sa.Column('applied_version', sa.Integer(), nullable=False),
        sa.Column('after_amount', sa.String(length=40), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('outcome_reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'seq', name='uq_change_request_project_seq'),
    )
    op.create_index('ix_change_request_project_id', 'change_request', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_change_request_project_id', table_name='change_request')
    op.drop_table('change_request')
