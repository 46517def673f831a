"""Loading what the approval forecast learns from (decided steps of the last year) and the steps
a pending approval still has to run, on the company's working calendar (statutory + overrides);
the forecast itself is domain/forecast.py."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.workcalendar import WorkingCalendar
from services.approval.domain import forecast as fc
from services.approval.domain.model import PURPOSE_REGISTRATION
from services.approval.domain.rules import INSTANCE_PENDING, STEP_PENDING, STEP_WAITING
from services.approval.mapping import utc
from services.approval.models import ApprovalInstance, ApprovalStep
from services.approval.store.calendar import calendar_of

HISTORY_DAYS = 365
MAX_SAMPLES = 2000
DECIDED = ("approved", "rejected", "returned")


def _samples(session: Session, now: datetime, cal: WorkingCalendar) -> list[fc.StepSample]:
    # Only the columns a sample needs (steps also hold provenance and config JSON).
    stmt = (
        sa.select(col(ApprovalStep.name), col(ApprovalStep.approvers), col(ApprovalStep.opened_at),
                  col(ApprovalStep.decided_at), col(ApprovalInstance.policy_key))
        .join(ApprovalInstance, col(ApprovalInstance.id) == col(ApprovalStep.instance_id))
        .where(col(ApprovalStep.status).in_(DECIDED), col(ApprovalStep.opened_at).is_not(None),
               col(ApprovalStep.decided_at).is_not(None),
               col(ApprovalStep.decided_at) >= now - timedelta(days=HISTORY_DAYS),
               col(ApprovalStep.decided_at) <= now)
        .order_by(col(ApprovalStep.decided_at).desc())
        .limit(MAX_SAMPLES)
    )
    out = []
    for name, approvers, opened_at, decided_at, policy_key in session.execute(stmt).all():
        opened, decided = utc(opened_at), utc(decided_at)
        out.append(fc.StepSample(policy_key, name, tuple(approvers or ()), opened, decided,
                                 cal.working_seconds_between(opened, decided)))
    return out


class ForecastStore:
    engine: Engine

    def forecast_instance(self, *, project_id: str, now: datetime) -> pb.ForecastInstanceResponse:
        with Session(self.engine) as session:
            instance = session.exec(
                select(ApprovalInstance).where(ApprovalInstance.project_id == project_id,
                                               ApprovalInstance.purpose == PURPOSE_REGISTRATION)
                .order_by(col(ApprovalInstance.attempt).desc()).limit(1)
            ).first()
            if instance is None or instance.status != INSTANCE_PENDING:
                return pb.ForecastInstanceResponse(available=False)
            steps = session.exec(
                select(ApprovalStep).where(ApprovalStep.instance_id == instance.id,
                                           col(ApprovalStep.status).in_((STEP_PENDING, STEP_WAITING)))
                .order_by(col(ApprovalStep.step_index))
            ).all()
            to_run = [fc.StepToRun(s.name, tuple(s.approvers or ()),
                                   opened_at=utc(s.opened_at) if s.status == STEP_PENDING and s.opened_at else None)
                      for s in steps]
            cal = calendar_of(session)
            samples = _samples(session, now, cal)
        result = fc.forecast(fc.History(samples), instance.policy_key, to_run, now=now, seed=instance.id,
                             add_working=cal.add_working_seconds, working_between=cal.working_seconds_between)
        if result is None:
            return pb.ForecastInstanceResponse(available=False)
        resp = pb.ForecastInstanceResponse(
            available=True, remaining_hours=result.remaining_hours,
            basis=[pb.ForecastBasis(step=b.step_name, level=b.level, samples=b.samples) for b in result.basis],
        )
        resp.expected_at.FromDatetime(result.expected_at)
        resp.low_at.FromDatetime(result.low_at)
        resp.high_at.FromDatetime(result.high_at)
        return resp
