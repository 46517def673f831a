"""The task-closing outbox (rows written by ``aggregates.persist``): read oldest first by the
worker's relay, acknowledged once notify accepted them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from services.approval.mapping import utc
from services.approval.models import ApprovalTaskClosing

MAX_CLAIM = 500


class ClosingStore:
    engine: Engine

    def claim_task_closings(self, *, limit: int) -> list[pb.TaskClosing]:
        size = min(max(limit, 1), MAX_CLAIM)
        stmt = (select(ApprovalTaskClosing).where(col(ApprovalTaskClosing.relayed).is_(False))
                .order_by(col(ApprovalTaskClosing.seq)).limit(size))
        with Session(self.engine) as session:
            out = []
            for row in session.exec(stmt).all():
                c = pb.TaskClosing(seq=row.seq or 0, task_id=row.task_id, instance_id=row.instance_id,
                                   project_id=row.project_id, approver_id=row.approver_id, outcome=row.outcome,
                                   actor_id=row.actor_id)
                c.at.FromDatetime(utc(row.created_at))
                out.append(c)
            return out

    def ack_task_closings(self, *, seqs: list[int]) -> int:
        if not seqs:
            return 0
        with Session(self.engine) as session, session.begin():
            result = session.execute(
                sa.update(ApprovalTaskClosing)
                .where(col(ApprovalTaskClosing.seq).in_(seqs), col(ApprovalTaskClosing.relayed).is_(False))
                .values(relayed=True)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]
