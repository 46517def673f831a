"""What an approver sees: a task (and whether they may act on it), the state of an action link,
their to-do list (待办, own and delegated), the projects they approve or are copied on, and their
decisions (已办)."""

from __future__ import annotations

import base64

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.errors import FieldViolation, ValidationFailed
from services.approval import domain, mapping
from services.approval.models import (
    ApprovalCC,
    ApprovalDecision,
    ApprovalInstance,
    ApprovalLinkUse,
    ApprovalStep,
    ApprovalTask,
)
from services.approval.store import aggregates
from services.approval.store.common import now_utc

log = structlog.get_logger("services.approval.store")


def step_tasks(session: Session, instance_id: str, step_index: int) -> list[ApprovalTask]:
    """Every task of a step (all its openings), oldest first."""
    stmt = (
        select(ApprovalTask)
        .where(ApprovalTask.instance_id == instance_id, ApprovalTask.step_index == step_index)
        .order_by(col(ApprovalTask.created_at), col(ApprovalTask.approver_id))
        .execution_options(populate_existing=True)
    )
    return list(session.exec(stmt).all())


def closed_by(session: Session, task: ApprovalTask) -> str:
    """transfer / reassign when the closed task was moved to someone else, else ""."""
    rows = session.exec(
        select(ApprovalDecision).where(
            sa.or_(
                col(ApprovalDecision.task_id) == task.id,
                sa.and_(
                    col(ApprovalDecision.instance_id) == task.instance_id,
                    col(ApprovalDecision.step_index) == task.step_index,
                    col(ApprovalDecision.action) == "reassign",
                ),
            )
        )
    ).all()
    return domain.closed_by(aggregates.to_domain(domain.Task, task),
                            [aggregates.to_domain(domain.Decision, r) for r in rows])


def encode_decided_cursor(decision_id: int) -> str:
    return base64.urlsafe_b64encode(f"d:{decision_id}".encode()).decode().rstrip("=")


def decode_decided_cursor(cursor: str) -> int:
    """A cursor of ``list_decided``; anything else is a 422 on ``cursor``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = raw.partition(":")
        value = int(number)
        if prefix != "d" or not 0 < value < 2**63:
            raise ValueError(raw)
    except (ValueError, UnicodeDecodeError) as err:
        raise ValidationFailed([FieldViolation("cursor", "分页游标无效", "invalid cursor")]) from err
    return value



def _purpose(session: Session, instance_id: str) -> tuple[str, str]:
    """(purpose, subject id) of an instance: which workflow decides its tasks."""
    instance = session.get(ApprovalInstance, instance_id)
    return (instance.purpose, instance.subject_id) if instance is not None else ("", "")

class TodoStore:
    engine: Engine

    def get_task(self, *, task_id: str, actor_id: str = "") -> pb.GetTaskResponse:
        with Session(self.engine) as session:
            row = session.get(ApprovalTask, task_id)
            if row is None:
                raise domain.unknown_task(task_id)
            purpose = _purpose(session, row.instance_id)
            if not actor_id:
                return pb.GetTaskResponse(task=mapping.task_to_proto(row, purpose=purpose))
            behalf = domain.acting_for(actor_id, row.approver_id,
                                       aggregates.delegations_of(session, [row.approver_id]), now_utc())
            return pb.GetTaskResponse(task=mapping.task_to_proto(row, purpose=purpose), may_act=behalf is not None,
                                      on_behalf_of=behalf or "")

    def check_action_link(self, *, link_id: str, task_id: str, approver_id: str) -> pb.CheckActionLinkResponse:
        """May the action link (bound to ``task_id`` and ``approver_id``) be used now? See
        ``domain.action_link_state``."""
        with Session(self.engine) as session:
            task = session.get(ApprovalTask, task_id)
            if task is None:
                raise domain.unknown_task(task_id)
            instance = session.get(ApprovalInstance, task.instance_id)
            step = session.exec(
                select(ApprovalStep).where(
                    ApprovalStep.instance_id == task.instance_id, ApprovalStep.step_index == task.step_index
                )
            ).first()
            closed = closed_by(session, task) if task.status == domain.TASK_CLOSED else ""
            state = domain.action_link_state(
                domain.LinkFacts(
                    used=bool(link_id) and session.get(ApprovalLinkUse, link_id) is not None,
                    link_approver_id=approver_id,
                    task_approver_id=task.approver_id,
                    task_status=task.status,
                    step_status=step.status if step is not None else "",
                    instance_status=instance.status if instance is not None else "",
                    closed_by=closed,
                )
            )
            log.info("approval.link_checked", project_id=task.project_id, task_id=task_id, link_id=link_id,
                     state=state, closed_by=closed)
            purpose = (instance.purpose, instance.subject_id) if instance is not None else ("", "")
            return pb.CheckActionLinkResponse(state=state, task=mapping.task_to_proto(task, purpose=purpose))

    def _principals(self, session: Session, user_id: str) -> list[str]:
        """Whom ``user_id`` acts for now (active delegations naming them)."""
        now = now_utc()
        return [d.user_id for d in aggregates.delegations_to(session, user_id) if d.active(now)]

    def list_todos(self, *, user_id: str) -> list[pb.ApprovalTask]:
        with Session(self.engine) as session:
            principals = self._principals(session, user_id)
            # Plain rows, not ORM objects: every open to-do page polls this (task_to_proto reads
            # the columns by name).
            task = ApprovalTask.__table__  # type: ignore[attr-defined]
            stmt = (
                sa.select(task, col(ApprovalInstance.purpose).label("instance_purpose"),
                          col(ApprovalInstance.subject_id).label("instance_subject_id"))
                .join(ApprovalInstance.__table__, col(ApprovalInstance.id) == task.c.instance_id)  # type: ignore[attr-defined]
                .where(
                    task.c.approver_id.in_([user_id, *principals]),
                    task.c.status == domain.TASK_PENDING,
                    col(ApprovalInstance.status) == domain.INSTANCE_PENDING,
                )
                .order_by(task.c.created_at, task.c.id)
            )
            return [
                mapping.task_to_proto(row, on_behalf_of="" if row.approver_id == user_id else row.approver_id,
                                      purpose=(row.instance_purpose, row.instance_subject_id))
                for row in session.execute(stmt).all()
            ]

    def list_approver_projects(self, *, user_id: str) -> list[str]:
        with Session(self.engine) as session:
            principals = self._principals(session, user_id)
            own = sa.select(ApprovalTask.project_id).where(col(ApprovalTask.approver_id) == user_id)  # type: ignore[call-overload]
            ids = {str(r[0]) for r in session.execute(own).all()}
            if principals:
                delegated = sa.select(ApprovalTask.project_id).where(  # type: ignore[call-overload]
                    col(ApprovalTask.approver_id).in_(principals), col(ApprovalTask.status) == domain.TASK_PENDING
                )
                ids |= {str(r[0]) for r in session.execute(delegated).all()}
            copied = sa.select(ApprovalCC.project_id).where(col(ApprovalCC.user_id) == user_id)  # type: ignore[call-overload]
            ids |= {str(r[0]) for r in session.execute(copied).all()}
            return sorted(ids)

    def list_decided(self, *, user_id: str, limit: int, cursor: str) -> tuple[list[pb.DecidedItem], str]:
        """已办: the decisions ``user_id`` took themselves (no auto-approvals, no audit-only actions),
        newest first, keyset-paged on the decision id; the next cursor is "" on the last page."""
        after = decode_decided_cursor(cursor) if cursor else None
        stmt = (
            select(ApprovalDecision, ApprovalInstance.project_id, ApprovalStep.name)
            .join(ApprovalInstance, col(ApprovalInstance.id) == col(ApprovalDecision.instance_id))
            .outerjoin(
                ApprovalStep,
                sa.and_(
                    col(ApprovalStep.instance_id) == col(ApprovalDecision.instance_id),
                    col(ApprovalStep.step_index) == col(ApprovalDecision.step_index),
                ),
            )
            .where(
                col(ApprovalDecision.user_id) == user_id,
                col(ApprovalDecision.action).in_(domain.ACTIONS),
                col(ApprovalDecision.auto).is_(False),
            )
            .order_by(col(ApprovalDecision.id).desc())
            .limit(limit + 1)
        )
        if after is not None:
            stmt = stmt.where(col(ApprovalDecision.id) < after)
        with Session(self.engine) as session:
            rows = list(session.exec(stmt).all())
        page = rows[:limit]
        items = [
            pb.DecidedItem(
                task_id=d.task_id, project_id=project_id, step=step_name or "", step_index=d.step_index,
                action=d.action, comment=d.comment, at=mapping.timestamp(d.at), on_behalf_of=d.on_behalf_of,
                target_user_id=d.target_user_id,
            )
            for d, project_id, step_name in page
        ]
        last_id = page[-1][0].id if page else None
        more = len(rows) > limit and last_id is not None
        return items, encode_decided_cursor(last_id) if more and last_id is not None else ""
