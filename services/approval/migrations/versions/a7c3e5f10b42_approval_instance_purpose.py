"""approval instance purpose: registration | acceptance | change, and the subject it decides

Revision ID: a7c3e5f10b42
Revises: 3f1c2b7d9e60
Create Date: 2026-12-02 17:00:00.000000
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = 'a7c3e5f10b42'
down_revision: Union[str, None] = '3f1c2b7d9e60'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('approval_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=20), nullable=False, server_default='registration'))
        batch_op.add_column(sa.Column('subject_id', sa.String(length=64), nullable=False, server_default=''))
        batch_op.create_index('ix_approval_instance_project_purpose', ['project_id', 'purpose'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('approval_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_approval_instance_project_purpose')
        batch_op.drop_column('subject_id')
        batch_op.drop_column('purpose')
