"""Carbon copies (抄送) with their read receipts, and delegation (代理) of a user's approvals."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import run_once
from baobei.core.errors import NotFound
from services.approval import mapping
from services.approval.models import ApprovalCC, ApprovalDelegation, processed_request
from services.approval.store.common import M_DELEGATION, now_utc

log = structlog.get_logger("services.approval.store")


class CcDelegationStore:
    engine: Engine

    def list_cc(self, *, user_id: str) -> list[pb.CcRecord]:
        stmt = select(ApprovalCC).where(ApprovalCC.user_id == user_id).order_by(col(ApprovalCC.created_at).desc())
        with Session(self.engine) as session:
            return [mapping.cc_to_proto(c) for c in session.exec(stmt.limit(500)).all()]

    def mark_cc_read(self, *, cc_id: str, user_id: str) -> pb.CcRecord:
        with Session(self.engine) as session:
            row = session.get(ApprovalCC, cc_id)
            if row is None or row.user_id != user_id:
                raise NotFound(f"抄送不存在：{cc_id}", f"unknown cc: {cc_id}")
            if row.read_at is None:
                # Conditional update: the first read wins and is the receipt.
                session.execute(
                    sa.update(ApprovalCC).where(col(ApprovalCC.id) == cc_id, col(ApprovalCC.read_at).is_(None))
                    .values(read_at=now_utc()).execution_options(synchronize_session=False)
                )
                session.commit()
                session.refresh(row)
            return mapping.cc_to_proto(row)

    def set_delegation(
        self, *, request_id: str, user_id: str, delegate_id: str, starts_at: datetime | None, ends_at: datetime | None
    ) -> pb.SetDelegationResponse:
        def apply(session: Session) -> pb.SetDelegationResponse:
            row = session.get(ApprovalDelegation, user_id)
            if not delegate_id:
                if row is not None:
                    session.delete(row)
                log.info("approval.delegation_cleared", user_id=user_id)
                return pb.SetDelegationResponse()
            assert starts_at is not None and ends_at is not None
            if row is None:
                row = ApprovalDelegation(user_id=user_id, delegate_id=delegate_id, starts_at=starts_at,
                                         ends_at=ends_at, created_at=now_utc())
            else:
                row.delegate_id, row.starts_at, row.ends_at = delegate_id, starts_at, ends_at
            session.add(row)
            session.flush()
            log.info("approval.delegation_set", user_id=user_id, delegate_id=delegate_id,
                     starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
            return pb.SetDelegationResponse(delegation=mapping.delegation_to_proto(row))

        return run_once(self.engine, processed_request, request_id=request_id, method=M_DELEGATION,
                        response_type=pb.SetDelegationResponse, apply=apply)

    def get_delegation(self, *, user_id: str) -> pb.Delegation | None:
        with Session(self.engine) as session:
            return mapping.delegation_to_proto(session.get(ApprovalDelegation, user_id))
