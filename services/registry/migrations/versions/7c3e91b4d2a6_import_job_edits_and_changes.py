"""import job: the importer's admin flag, edits made by coded rows and the changes reported

Revision ID: 7c3e91b4d2a6
Revises: 5a021e730878
Create Date: 2026-12-03 09:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '7c3e91b4d2a6'
down_revision: Union[str, None] = '5a021e730878'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Server defaults: jobs queued before this revision read as an admin's, with nothing edited.
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_is_admin', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('updated', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('unchanged', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('changes_total', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('updated_ids', sa.JSON(), nullable=False, server_default='[]'))


def downgrade() -> None:
    with op.batch_alter_table('import_job', schema=None) as batch_op:
        batch_op.drop_column('updated_ids')
        batch_op.drop_column('changes')
        batch_op.drop_column('changes_total')
        batch_op.drop_column('unchanged')
        batch_op.drop_column('updated')
        batch_op.drop_column('actor_is_admin')
