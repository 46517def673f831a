"""GroupLinkService: what a signed-in user may do with a group action link (rules in
``group_links``). Reads only; the decision itself goes through the lifecycle's ``decide`` update
and ``RecordDecision``, which records the use in the decision's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from baobei.approval.v1 import group_link_service_pb2 as pb
from baobei.approval.v1 import group_link_service_pb2_grpc as pb_grpc
from baobei.core.errors import NotFound, ValidationFailed, require
from baobei.core.grpc_server import rpc
from services.approval import domain, group_links, mapping
from services.approval.models import (
    ApprovalDecision,
    ApprovalInstance,
    ApprovalLinkUse,
    ApprovalStep,
    ApprovalTask,
)
from services.approval.org_client import DirectoryUnavailable
from services.approval.store import aggregates, todos

log = structlog.get_logger(__name__)
# Decisions that settle a delegate's part (transfer / add_approver hand it on instead).
_DECISIVE = ("approve", "reject", "return")
_HANDED_ON = (domain.CLOSED_BY_TRANSFER, domain.CLOSED_BY_REASSIGN)


def check(engine: Engine, *, link_id: str, task_id: str, actor_id: str, now: datetime) -> pb.CheckGroupLinkResponse:
    with Session(engine) as session:
        anchor = session.get(ApprovalTask, task_id)
        if anchor is None:
            raise NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")
        instance = session.get(ApprovalInstance, anchor.instance_id)
        step = session.exec(select(ApprovalStep).where(
            ApprovalStep.instance_id == anchor.instance_id, ApprovalStep.step_index == anchor.step_index)).first()
        every = todos.step_tasks(session, anchor.instance_id, anchor.step_index)
        opened = mapping.utc(step.opened_at) if step is not None and step.opened_at else None
        current = opened is not None and mapping.utc(anchor.created_at) >= opened
        opening = [t for t in every if opened is not None and mapping.utc(t.created_at) >= opened] if current else []
        uses = session.exec(select(ApprovalLinkUse).where(
            col(ApprovalLinkUse.link_id).startswith(group_links.use_prefix(link_id), autoescape=True))).all()
        delegations = aggregates.delegations_of(session, sorted({t.approver_id for t in opening}))
        pending = [t for t in opening if t.status == domain.TASK_PENDING]
        mine = [t for t in pending if t.approver_id == actor_id]
        delegated = [t for t in pending if t.approver_id != actor_id
                     and domain.acting_for(actor_id, t.approver_id, delegations, now) is not None]
        own_kept = [t for t in opening if t.approver_id == actor_id and not (
            t.status == domain.TASK_CLOSED and todos.closed_by(session, t) in _HANDED_ON)]
        as_delegate = session.exec(select(ApprovalDecision.id).where(
            ApprovalDecision.instance_id == anchor.instance_id, ApprovalDecision.step_index == anchor.step_index,
            ApprovalDecision.user_id == actor_id, ApprovalDecision.on_behalf_of != "",
            col(ApprovalDecision.action).in_(_DECISIVE),
            *([col(ApprovalDecision.at) >= opened] if current and opened is not None else []))).first()
        facts = group_links.GroupLinkFacts(
            used_by_actor=any(u.user_id == actor_id for u in uses),
            opening_current=current,
            step_pending=step is not None and step.status == domain.STEP_PENDING,
            instance_pending=instance is not None and instance.status == domain.INSTANCE_PENDING,
            actionable=bool(mine or delegated),
            own_kept=len(own_kept),
            acted_as_delegate=as_delegate is not None,
            had_part_before=any(t.approver_id == actor_id for t in every),
        )
        state = group_links.state(facts)
        resp = pb.CheckGroupLinkResponse(state=state, anchor=mapping.task_to_proto(anchor))
        if state == group_links.USABLE:
            task = (mine or delegated)[0]
            behalf = "" if task.approver_id == actor_id else task.approver_id
            resp.task.CopyFrom(mapping.task_to_proto(task, on_behalf_of=behalf))
            resp.use_id = group_links.use_id(link_id, task.id)
        log.info("approval.group_link_checked", project_id=anchor.project_id, anchor_task_id=task_id,
                 link_id=link_id, actor_id=actor_id, state=state)
        return resp


class GroupLinkServicer(pb_grpc.GroupLinkServiceServicer):
    def __init__(self, *, engine: Engine, directory: domain.OrgDirectory) -> None:
        self.engine = engine
        self.directory = directory

    @rpc
    def CheckGroupLink(
        self, request: pb.CheckGroupLinkRequest, context: grpc.ServicerContext
    ) -> pb.CheckGroupLinkResponse:
        violations = (require(request.link_id, "link_id", "审批链接", "link_id")
                      + require(request.task_id, "task_id", "审批任务", "task_id")
                      + require(request.actor_id, "actor_id", "用户", "actor_id"))
        if violations:
            raise ValidationFailed(violations)
        actor = request.actor_id.strip()
        resp = check(self.engine, link_id=request.link_id.strip(), task_id=request.task_id.strip(), actor_id=actor,
                     now=datetime.now(UTC))
        try:
            user = self.directory.get_user(actor)
        except DirectoryUnavailable as err:
            context.abort(grpc.StatusCode.UNAVAILABLE, f"org directory unavailable: {err}")
        if user is None or user.left:
            resp.state = "approver_left"
            resp.ClearField("task")
            resp.use_id = ""
        return resp
