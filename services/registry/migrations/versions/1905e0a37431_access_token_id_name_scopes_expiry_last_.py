"""access token id, name, scopes, expiry, last use, revocation

Tokens issued before get an id, every scope, and an expiry 90 days after this migration (they
never expired before; this gives their holders time to replace them).

Revision ID: 1905e0a37431
Revises: 0d1123dc2ca1
Create Date: 2026-12-02 04:18:39.496629
"""
import uuid
from datetime import UTC, datetime, timedelta
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '1905e0a37431'
down_revision: Union[str, None] = '0d1123dc2ca1'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SCOPES = ["crm:write", "org:sync", "reports:read"]


def upgrade() -> None:
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))

    table = sa.table('access_token', sa.column('token_hash', sa.String), sa.column('id', sa.String),
                     sa.column('scopes', sa.JSON), sa.column('expires_at', sa.DateTime(timezone=True)))
    conn = op.get_bind()
    expires = datetime.now(UTC) + timedelta(days=90)
    for (token_hash,) in conn.execute(sa.select(table.c.token_hash)).all():
        conn.execute(table.update().where(table.c.token_hash == token_hash)
                     .values(id=uuid.uuid4().hex, scopes=SCOPES, expires_at=expires))

    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.alter_column('id', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False)
        batch_op.alter_column('scopes', existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column('expires_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.create_unique_constraint('uq_access_token_id', ['id'])


def downgrade() -> None:
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.drop_constraint('uq_access_token_id', type_='unique')
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('scopes')
        batch_op.drop_column('name')
        batch_op.drop_column('id')
