"""Finance vouchers booked as costs, once per (source, voucher_id), each row in its own savepoint
so one bad or conflicting voucher does not hold back the others. A booked voucher is a cost of
kind ``finance`` with a ``cost.recorded`` event (reported like any cost)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from baobei.core.errors import FieldViolation
from services.tasks import vouchers
from services.tasks.models import Cost, CostVoucher, TaskEvent

log = structlog.get_logger(__name__)
APPLIED, DUPLICATE, ERROR = "applied", "duplicate", "error"


@dataclass
class Outcome:
    row: int
    voucher_id: str
    status: str
    cost_id: str = ""
    project_id: str = ""
    problems: list[tuple[str, FieldViolation]] = field(default_factory=list)  # (code, violation)


def _conflict(existing: CostVoucher) -> tuple[str, FieldViolation]:
    return "voucher_conflict", FieldViolation(
        "voucher_id", f"凭证号 {existing.voucher_id} 已按不同内容入账（成本 {existing.cost_id}），未改动",
        f"voucher {existing.voucher_id} was booked earlier with other content (cost {existing.cost_id}); "
        "nothing changed",
    )


def _seen(session: Session, source: str, v: vouchers.Voucher, row: int) -> Outcome | None:
    existing = session.get(CostVoucher, (source, v.voucher_id))
    if existing is None:
        return None
    if existing.fingerprint == v.fingerprint:
        return Outcome(row, v.voucher_id, DUPLICATE, existing.cost_id, existing.project_id)
    return Outcome(row, v.voucher_id, ERROR, existing.cost_id, existing.project_id, [_conflict(existing)])


def import_vouchers(
    engine: Engine, *, source: str, items: Sequence[vouchers.VoucherIn], actor_id: str, now: datetime
) -> list[Outcome]:
    out: list[Outcome] = []
    with Session(engine) as session:
        for item in items:
            v, problems = vouchers.check(item)
            if v is None:
                code = "invalid_voucher"
                out.append(Outcome(item.row, item.voucher_id.strip(), ERROR, problems=[(code, p) for p in problems]))
                continue
            seen = _seen(session, source, v, item.row)
            if seen is not None:
                out.append(seen)
                continue
            cost = Cost(id=str(uuid.uuid4()), project_id=v.project_id, kind=vouchers.KIND, amount=v.amount,
                        note=v.note[:500], at=v.occurred_on, actor_id=actor_id, created_at=now)
            # The reporting contract's CostRecorded fields, as for a cost entered by hand.
            payload = {"cost_id": cost.id, "project_id": v.project_id, "task_id": "", "kind": vouchers.KIND,
                       "amount": str(v.amount), "at": v.occurred_on.isoformat()}
            try:
                with session.begin_nested():
                    session.add(cost)
                    session.add(CostVoucher(source=source, voucher_id=v.voucher_id, cost_id=cost.id,
                                            project_id=v.project_id, category=v.category, fingerprint=v.fingerprint,
                                            actor_id=actor_id, created_at=now))
                    session.add(TaskEvent(project_id=v.project_id, kind="cost.recorded",
                                          payload=json.dumps(payload, ensure_ascii=False), at=now))
            except IntegrityError:  # booked concurrently by another call: answer as a repeat would
                session.expire_all()
                out.append(_seen(session, source, v, item.row) or Outcome(item.row, v.voucher_id, DUPLICATE))
                continue
            out.append(Outcome(item.row, v.voucher_id, APPLIED, cost.id, v.project_id))
        session.commit()
    log.info("cost.vouchers_imported", source=source, rows=len(out),
             applied=sum(o.status == APPLIED for o in out), duplicate=sum(o.status == DUPLICATE for o in out),
             error=sum(o.status == ERROR for o in out))
    return out
