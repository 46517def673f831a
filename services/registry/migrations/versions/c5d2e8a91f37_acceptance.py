"""acceptance (验收): checklists per business line, requests, documents

Revision ID: c5d2e8a91f37
Revises: b7e41c0a9d52
Create Date: 2026-12-02 17:00:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'c5d2e8a91f37'
down_revision: Union[str, None] = 'b7e41c0a9d52'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'acceptance_checklist',
        sa.Column('business_line', sa.String(length=100), nullable=False),
        sa.Column('items', sa.JSON(), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_by', sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint('business_line'),
    )
    op.create_table(
        'acceptance_request',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('business_line', sa.String(length=100), nullable=False),
        sa.Column('deliverables', sa.JSON(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('requested_by', sa.String(length=100), nullable=False),
        sa.Column('policy_key', sa.String(length=100), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('decided_by', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'seq', name='uq_acceptance_request_project_seq'),
    )
    op.create_index('ix_acceptance_request_project_id', 'acceptance_request', ['project_id'], unique=False)
    op.create_table(
        'acceptance_document',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.String(length=32), nullable=False),
        sa.Column('attachment_id', sa.String(length=80), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=120), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('deliverable_key', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=100), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_acceptance_document_project_id', 'acceptance_document', ['project_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_acceptance_document_project_id', table_name='acceptance_document')
    op.drop_table('acceptance_document')
    op.drop_index('ix_acceptance_request_project_id', table_name='acceptance_request')
    op.drop_table('acceptance_request')
    op.drop_table('acceptance_checklist')
