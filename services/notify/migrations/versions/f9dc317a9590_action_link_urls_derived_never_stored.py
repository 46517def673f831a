"""action link urls derived, never stored

Action-link URLs are credentials: they are now derived from the link row when a notification is
shown or delivered. This drops the ones stored before from notifications, delivery payloads and
the request log of Send (the links themselves keep working: their tokens still verify).

Revision ID: f9dc317a9590
Revises: 24b42e13bf58
Create Date: 2026-12-02 04:26:25.198322
"""
import json
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'f9dc317a9590'
down_revision: Union[str, None] = '24b42e13bf58'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('action_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_link_notification_id'), ['notification_id'], unique=False)

    conn = op.get_bind()
    linked = {str(r[0]) for r in conn.execute(sa.text("SELECT notification_id FROM action_link")) if r[0]}
    if not linked:
        return
    notification = sa.table('notification', sa.column('id', sa.String), sa.column('action_url', sa.String))
    delivery = sa.table('delivery', sa.column('id', sa.String), sa.column('notification_id', sa.String),
                        sa.column('payload', sa.JSON))
    ids = sorted(linked)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        conn.execute(notification.update().where(notification.c.id.in_(chunk)).values(action_url=''))
        for did, payload in conn.execute(
                sa.select(delivery.c.id, delivery.c.payload).where(delivery.c.notification_id.in_(chunk))).all():
            data = json.loads(payload) if isinstance(payload, str) else dict(payload or {})
            ctx = data.get("context")
            if isinstance(ctx, dict) and ctx.pop("action_url", None) is not None:
                conn.execute(delivery.update().where(delivery.c.id == did).values(payload=data))
    _scrub_send_log(conn, linked)


def _scrub_send_log(conn: sa.Connection, linked: set[str]) -> None:
    from baobei.notify.v1 import notify_service_pb2 as pb

    log = sa.table('processed_request', sa.column('request_id', sa.String), sa.column('method', sa.String),
                   sa.column('response', sa.LargeBinary))
    for key, raw in conn.execute(sa.select(log.c.request_id, log.c.response).where(log.c.method == 'Send')).all():
        resp = pb.SendResponse.FromString(bytes(raw))
        changed = False
        for n in resp.notifications:
            if n.id in linked and n.action_url:
                n.action_url = ''
                changed = True
        if changed:
            conn.execute(log.update().where(log.c.request_id == key).values(response=resp.SerializeToString()))


def downgrade() -> None:
    with op.batch_alter_table('action_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_link_notification_id'))
