"""Persistence of policies, instances, steps, tasks and decisions. Mutating operations run in
one transaction through ``run_once`` (request-id idempotency); decisions are exactly-once through
a row lock on the instance plus conditional updates whose row counts are checked."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import run_once
from baobei.core.errors import Conflict, FieldViolation, Forbidden, Gone, NotFound, ValidationFailed
from services.approval import domain, group_links, mapping
from services.approval.models import (
    ApprovalCC,
    ApprovalDecision,
    ApprovalDelegation,
    ApprovalInstance,
    ApprovalLinkUse,
    ApprovalStep,
    ApprovalTask,
    PolicyVersion,
    processed_request,
)

log = structlog.get_logger(__name__)
# (instance id, project id, planning inputs, [(step name, planned approvers)])
Submission = tuple[str, str, dict[str, Any], list[tuple[str, list[str]]]]

M_PUT_POLICY, M_PLAN_CHAIN, M_OPEN_STEP, M_RECORD_DECISION = "PutPolicy", "PlanChain", "OpenStep", "RecordDecision"
M_FIRE_TIMER, M_RESUME, M_CANCEL, M_REASSIGN, M_ACTION, M_DELEGATION = (
    "FireTimer",
    "ResumeInstance",
    "CancelInstance",
    "ReassignStep",
    "RecordAction",
    "SetDelegation",
)
INSTANCE_SUPERSEDED = "superseded"


@dataclass(frozen=True)
class ReturnedChain:
    """A returned approval: the form, submitter and inputs it was planned from, and its chain
    as planned ([(step name, approvers)])."""

    form_key: str
    submitter_id: str
    inputs: dict[str, Any]
    chain: list[tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Replan:
    """A resubmission whose routing facts changed: the chain planned now, and why."""

    policy: domain.Policy
    steps: list[domain.PlannedStep]
    inputs: dict[str, Any]
    reason: str


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def _not_approver() -> Forbidden:
    return Forbidden("您不是该审批任务的审批人", "you are not the approver of this task", code="not_approver")


def _already_decided() -> Conflict:
    return Conflict(
        "该审批任务已处理或审批已结束", "the task is already decided or the approval is over", code="already_decided"
    )


def _link_used() -> Gone:
    return Gone("该审批链接已使用过", "this action link was already used", code="link_used")


class ApprovalStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------ policies

    def put_policy(
        self,
        *,
        request_id: str,
        key: str,
        form_key: str,
        steps: Sequence[domain.StepSpec],
        options: domain.PolicyOptions | None = None,
    ) -> pb.PutPolicyResponse:
        definition = [s.as_dict() for s in steps]
        opts = (options or domain.PolicyOptions()).as_dict() or None
        form_key = form_key.strip()

        def apply(session: Session) -> pb.PutPolicyResponse:
            latest = self._latest_policy(session, key)
            if (
                latest is not None
                and latest.form_key == form_key
                and list(latest.steps) == definition
                and (latest.options or None) == opts
            ):
                return pb.PutPolicyResponse(key=key, version=latest.version, created=False)
            version = (latest.version if latest else 0) + 1
            session.add(
                PolicyVersion(
                    key=key, version=version, form_key=form_key, steps=definition, options=opts, created_at=_now()
                )
            )
            try:
                session.flush()
            except IntegrityError as err:
                raise Conflict("策略正被同时修改，请重试", "the policy was changed concurrently, retry",
                               code="stale_version") from err
            log.info("approval.policy_saved", policy_key=key, version=version, form_key=form_key, steps=len(steps))
            return pb.PutPolicyResponse(key=key, version=version, created=True)

        return run_once(self.engine, processed_request, request_id=request_id, method=M_PUT_POLICY,
                        response_type=pb.PutPolicyResponse, apply=apply)

    @staticmethod
    def _latest_policy(session: Session, key: str) -> PolicyVersion | None:
        stmt = select(PolicyVersion).where(PolicyVersion.key == key).order_by(col(PolicyVersion.version).desc())
        return session.exec(stmt.limit(1)).first()

    def get_policy(self, *, key: str, version: int = 0) -> pb.Policy:
        with Session(self.engine) as session:
            if version > 0:
                stmt = select(PolicyVersion).where(PolicyVersion.key == key, PolicyVersion.version == version)
                row = session.exec(stmt).first()
            else:
                row = self._latest_policy(session, key)
            if row is None:
                raise NotFound(f"审批策略不存在：{key}" + (f" v{version}" if version else ""),
                               f"unknown approval policy: {key}" + (f" v{version}" if version else ""))
            return mapping.policy_to_proto(row)

    @staticmethod
    def _to_policy(row: PolicyVersion) -> domain.Policy:
        return domain.Policy(
            key=row.key,
            form_key=row.form_key,
            version=row.version,
            steps=tuple(domain.StepSpec.from_dict(s) for s in row.steps),
            options=domain.PolicyOptions.from_dict(row.options),
        )

    def policy(self, *, key: str) -> domain.Policy:
        """Latest version of a policy; NotFound if unknown."""
        with Session(self.engine) as session:
            row = self._latest_policy(session, key)
            if row is None:
                raise NotFound(f"审批策略不存在：{key}", f"unknown approval policy: {key}")
            return self._to_policy(row)

    def policy_for_form(self, *, form_key: str) -> domain.Policy | None:
        """The policy deciding projects of a form: among the latest versions of all policies, the
        one for this form; with several, the most recently changed."""
        latest = (
            sa.select(col(PolicyVersion.key), sa.func.max(col(PolicyVersion.version)).label("v"))
            .group_by(col(PolicyVersion.key))
            .subquery()
        )
        stmt = (
            select(PolicyVersion)
            .join(latest, sa.and_(col(PolicyVersion.key) == latest.c.key, col(PolicyVersion.version) == latest.c.v))
            .where(PolicyVersion.form_key == form_key)
            .order_by(col(PolicyVersion.id).desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            row = session.exec(stmt).first()
            return self._to_policy(row) if row else None

    # ------------------------------------------------------------ planning

    @staticmethod
    def _new_instance(
        session: Session,
        *,
        facts: domain.ProjectFacts,
        submitter_id: str,
        policy: domain.Policy | None,
        steps: Sequence[domain.PlannedStep],
        inputs: dict[str, Any] | None,
    ) -> ApprovalInstance:
        """A new instance with its planned steps; what is still open of earlier submissions of the
        project is superseded. Not flushed."""
        project_id = facts.project_id
        previous = session.exec(
            select(ApprovalInstance).where(ApprovalInstance.project_id == project_id).with_for_update()
        ).all()
        now = _now()
        # A resubmission supersedes what is still open of earlier submissions.
        for old in previous:
            if old.status in (domain.INSTANCE_PENDING, domain.INSTANCE_RETURNED):
                old.status = INSTANCE_SUPERSEDED
                old.decided_at = now
                session.add(old)
                session.execute(
                    sa.update(ApprovalTask)
                    .where(
                        col(ApprovalTask.instance_id) == old.id,
                        col(ApprovalTask.status).in_([domain.TASK_PENDING, domain.TASK_WAITING]),
                    )
                    .values(status=domain.TASK_CLOSED, decided_at=now)
                )
        instance = ApprovalInstance(
            id=_new_id(),
            project_id=project_id,
            attempt=max((p.attempt for p in previous), default=0) + 1,
            policy_key=policy.key if policy else "",
            policy_version=policy.version if policy else 0,
            submitter_id=submitter_id,
            status=domain.INSTANCE_PENDING if steps else domain.INSTANCE_APPROVED,
            created_at=now,
            decided_at=None if steps else now,
            form_key=facts.form_key,
            inputs=inputs,
            form_hash=facts.content_hash(),
        )
        session.add(instance)
        auto_consecutive = policy.options.auto_approve_consecutive if policy else True
        for s in steps:
            session.add(
                ApprovalStep(
                    instance_id=instance.id,
                    step_index=s.index,
                    name=s.name,
                    mode=s.mode,
                    approvers=list(s.approvers),
                    sla=s.sla,
                    sla_seconds=s.sla_seconds,
                    on_timeout=s.on_timeout,
                    escalate_to=list(s.escalate_to),
                    status=domain.STEP_WAITING,
                    config={**mapping.step_config(s), "auto_consecutive": auto_consecutive},
                    provenance=dict(s.provenance) or None,
                )
            )
        return instance

    def plan_chain(
        self,
        *,
        request_id: str,
        facts: domain.ProjectFacts,
        submitter_id: str,
        policy: domain.Policy | None,
        steps: Sequence[domain.PlannedStep],
        inputs: dict[str, Any] | None = None,
    ) -> pb.PlanChainResponse:
        def apply(session: Session) -> pb.PlanChainResponse:
            instance = self._new_instance(session, facts=facts, submitter_id=submitter_id, policy=policy,
                                          steps=steps, inputs=inputs)
            project_id = facts.project_id
            try:
                session.flush()
            except IntegrityError as err:
                # Another transaction planned this project first: a duplicate of this very
                # request gets that answer, anything else a retryable conflict.
                session.rollback()
                stored = self._stored_response(session, M_PLAN_CHAIN, request_id)
                if stored is not None:
                    return pb.PlanChainResponse.FromString(stored)
                raise Conflict("该项目正在被同时提交审批，请重试", "the project is being planned concurrently, retry",
                               code="conflict") from err
            log.info("approval.planned", project_id=project_id, instance_id=instance.id, attempt=instance.attempt,
                     policy_key=instance.policy_key, policy_version=instance.policy_version, steps=len(steps))
            return pb.PlanChainResponse(
                instance_id=instance.id,
                policy_key=instance.policy_key,
                policy_version=instance.policy_version,
                steps=[mapping.planned_step_to_proto(s) for s in steps],
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_PLAN_CHAIN,
                        response_type=pb.PlanChainResponse, apply=apply)

    # ------------------------------------------------------------ helpers inside a transaction

    @staticmethod
    def _lock_instance(session: Session, instance_id: str) -> ApprovalInstance:
        stmt = (
            select(ApprovalInstance)
            .where(ApprovalInstance.id == instance_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        row = session.exec(stmt).first()
        if row is None:
            raise NotFound(f"审批实例不存在：{instance_id}", f"unknown approval instance: {instance_id}")
        return row

    @staticmethod
    def _steps(session: Session, instance_id: str) -> list[ApprovalStep]:
        stmt = (
            select(ApprovalStep)
            .where(ApprovalStep.instance_id == instance_id)
            .order_by(col(ApprovalStep.step_index))
            .execution_options(populate_existing=True)
        )
        return list(session.exec(stmt).all())

    @staticmethod
    def _decisions(session: Session, instance_id: str, step_index: int | None = None) -> list[ApprovalDecision]:
        stmt = select(ApprovalDecision).where(ApprovalDecision.instance_id == instance_id)
        if step_index is not None:
            stmt = stmt.where(ApprovalDecision.step_index == step_index)
        return list(session.exec(stmt.order_by(col(ApprovalDecision.at), col(ApprovalDecision.id))).all())

    @staticmethod
    def _step_tasks(
        session: Session, instance_id: str, step_index: int, since: datetime | None = None
    ) -> list[ApprovalTask]:
        """The step's tasks; with ``since`` (the step's opening) only those of its current opening
        (a step reopened after a return keeps its earlier tasks as history)."""
        stmt = select(ApprovalTask).where(
            ApprovalTask.instance_id == instance_id, ApprovalTask.step_index == step_index
        )
        if since is not None:
            stmt = stmt.where(col(ApprovalTask.created_at) >= since)
        stmt = stmt.order_by(col(ApprovalTask.created_at), col(ApprovalTask.approver_id)).execution_options(
            populate_existing=True
        )
        return list(session.exec(stmt).all())

    @staticmethod
    def _settle_instance(session: Session, instance: ApprovalInstance, steps: Sequence[ApprovalStep]) -> None:
        status = domain.instance_status([s.status for s in steps])
        if status != instance.status:
            instance.status = status
            instance.decided_at = _now() if status != domain.INSTANCE_PENDING else None
            session.add(instance)
            log.info("approval.instance_" + status, project_id=instance.project_id, instance_id=instance.id)

    @staticmethod
    def _stored_response(session: Session, method: str, request_id: str) -> bytes | None:
        row = session.execute(
            sa.select(processed_request.c.response).where(processed_request.c.request_id == f"{method}:{request_id}")
        ).first()
        return bytes(row[0]) if row else None

    # ------------------------------------------------------------ step helpers

    @staticmethod
    def _timers(step: ApprovalStep) -> tuple[datetime | None, list[domain.Timer]]:
        if step.opened_at is None:
            return None, []
        config = step.config or {}
        return domain.step_timers(
            opened_at=mapping.utc(step.opened_at),
            sla=step.sla,
            on_timeout=step.on_timeout,
            escalate_to=list(step.escalate_to),
            remind_at=float(config.get("remind_at", 0) or 0),
            escalation=list(config.get("escalation") or []),
        )

    @staticmethod
    def _current_tasks(session: Session, step: ApprovalStep) -> list[ApprovalTask]:
        since = mapping.utc(step.opened_at) if step.opened_at else None
        return ApprovalStore._step_tasks(session, step.instance_id, step.step_index, since)

    @staticmethod
    def _new_task(
        session: Session,
        instance: ApprovalInstance,
        step: ApprovalStep,
        approver: str,
        now: datetime,
        *,
        kind: str = domain.KIND_NORMAL,
        status: str = domain.TASK_PENDING,
        blocks: str = "",
    ) -> ApprovalTask:
        due, _ = ApprovalStore._timers(step)
        task = ApprovalTask(
            id=_new_id(),
            instance_id=instance.id,
            project_id=instance.project_id,
            step_index=step.step_index,
            step_name=step.name,
            approver_id=approver,
            status=status,
            due_at=due,
            created_at=now,
            opened_at=now if status == domain.TASK_PENDING else None,
            kind=kind,
            blocks_task_id=blocks,
        )
        session.add(task)
        return task

    @staticmethod
    def _outcome(step: ApprovalStep, tasks: Sequence[ApprovalTask]) -> str:
        config = step.config or {}
        total = len(dict.fromkeys(step.approvers)) if step.mode == "sequential" else None
        return domain.step_outcome(
            step.mode,
            [domain.TaskState(t.status, t.kind or domain.KIND_NORMAL) for t in tasks],
            total=total,
            min_approvals=int(config.get("min_approvals", 0) or 0),
            ratio=float(config.get("ratio", 0) or 0),
        )

    @staticmethod
    def _close_open_tasks(session: Session, instance_id: str, step_index: int | None, now: datetime) -> None:
        stmt = sa.update(ApprovalTask).where(
            col(ApprovalTask.instance_id) == instance_id,
            col(ApprovalTask.status).in_([domain.TASK_PENDING, domain.TASK_WAITING]),
        )
        if step_index is not None:
            stmt = stmt.where(col(ApprovalTask.step_index) == step_index)
        session.execute(
            stmt.values(status=domain.TASK_CLOSED, decided_at=now).execution_options(synchronize_session=False)
        )

    def _settle_step(
        self,
        session: Session,
        instance: ApprovalInstance,
        steps: Sequence[ApprovalStep],
        step: ApprovalStep,
        outcome: str,
        now: datetime,
    ) -> None:
        if outcome not in (domain.OUTCOME_APPROVED, domain.OUTCOME_REJECTED):
            return
        self._close_open_tasks(session, instance.id, step.step_index, now)
        step.status = domain.STEP_APPROVED if outcome == domain.OUTCOME_APPROVED else domain.STEP_REJECTED
        step.decided_at = now
        session.add(step)
        self._settle_instance(session, instance, steps)

    def _next_in_sequence(
        self, session: Session, instance: ApprovalInstance, step: ApprovalStep, now: datetime
    ) -> list[ApprovalTask]:
        """依次: once nobody of the step is pending, the next approver in order gets a task."""
        if step.mode != "sequential":
            return []
        tasks = self._current_tasks(session, step)
        if any(t.status in (domain.TASK_PENDING, domain.TASK_WAITING) for t in tasks):
            return []
        tasked = {t.approver_id for t in tasks if t.status != domain.TASK_CLOSED}
        for approver in dict.fromkeys(step.approvers):
            if approver not in tasked:
                return [self._new_task(session, instance, step, approver, now)]
        return []

    @staticmethod
    def _audit(
        session: Session,
        *,
        instance_id: str,
        step_index: int,
        user_id: str,
        action: str,
        now: datetime,
        task_id: str = "",
        comment: str = "",
        channel: str = "api",
        auto: bool = False,
        on_behalf_of: str = "",
        target_user_id: str = "",
        data: dict[str, Any] | None = None,
    ) -> ApprovalDecision:
        row = ApprovalDecision(
            instance_id=instance_id,
            step_index=step_index,
            task_id=task_id,
            user_id=user_id,
            action=action,
            comment=comment,
            channel=channel or "api",
            auto=auto,
            at=now,
            on_behalf_of=on_behalf_of,
            target_user_id=target_user_id,
            data=data or None,
        )
        session.add(row)
        return row

    @staticmethod
    def _delegations_to(session: Session, delegate_id: str) -> list[domain.Delegation]:
        rows = session.exec(select(ApprovalDelegation).where(ApprovalDelegation.delegate_id == delegate_id)).all()
        return [_delegation(r) for r in rows]

    @staticmethod
    def _delegations_of(session: Session, user_ids: Sequence[str]) -> list[domain.Delegation]:
        if not user_ids:
            return []
        rows = session.exec(select(ApprovalDelegation).where(col(ApprovalDelegation.user_id).in_(list(user_ids)))).all()
        return [_delegation(r) for r in rows]

    def _pending_approvers(self, session: Session, step: ApprovalStep) -> list[str]:
        if step.status != domain.STEP_PENDING:
            return []
        return sorted({t.approver_id for t in self._current_tasks(session, step) if t.status == domain.TASK_PENDING})

    def _step_response(self, session: Session, step: ApprovalStep) -> pb.StepState:
        due, _ = self._timers(step)
        return mapping.step_state_to_proto(step, self._decisions(session, step.instance_id, step.step_index), due)

    # ------------------------------------------------------------ opening steps

    def open_step(self, *, request_id: str, instance_id: str, step_index: int) -> pb.OpenStepResponse:
        def apply(session: Session) -> pb.OpenStepResponse:
            instance = self._lock_instance(session, instance_id)
            stored = self._stored_response(session, M_OPEN_STEP, request_id)
            if stored is not None:
                return pb.OpenStepResponse.FromString(stored)
            steps = self._steps(session, instance_id)
            step = next((s for s in steps if s.step_index == step_index), None)
            if step is None:
                raise NotFound(f"审批步骤不存在：{step_index}", f"unknown approval step: {step_index}")
            if step.status != domain.STEP_WAITING:
                # Opened before (under another request id): report what it is now.
                so_far = self._decisions(session, instance_id, step_index)
                due, timers = self._timers(step)
                return pb.OpenStepResponse(
                    step=mapping.step_state_to_proto(step, so_far, due),
                    tasks=[mapping.task_to_proto(t) for t in self._current_tasks(session, step)],
                    auto_approved=any(d.auto for d in so_far),
                    timers=[mapping.timer_to_proto(t) for t in timers],
                    due_at=mapping.timestamp(due),
                    cc=list((step.config or {}).get("cc") or []),
                )
            if instance.status != domain.INSTANCE_PENDING:
                raise Conflict("审批已结束", "the approval is over", code="already_decided")
            earlier = [s for s in steps if s.step_index < step_index]
            if any(s.status not in (domain.STEP_APPROVED, domain.STEP_SKIPPED) for s in earlier):
                raise Conflict("前序审批步骤尚未完成", "an earlier step is not finished", code="illegal_transition")

            now = _now()
            config = step.config or {}
            step.opened_at = now
            tasks: list[ApprovalTask] = []
            decisions: list[ApprovalDecision] = []
            auto = False
            log_event = "approval.step_opened"
            if not step.approvers and not config.get("blocked"):
                step.status = domain.STEP_SKIPPED
                step.decided_at = now
                log_event = "approval.step_skipped"
            elif config.get("self_approved"):
                auto = True
                step.status = domain.STEP_APPROVED
                step.decided_at = now
                decisions.append(
                    self._audit(session, instance_id=instance_id, step_index=step_index, user_id=step.approvers[0],
                                action="approve", now=now, comment=domain.SELF_APPROVE_COMMENT, channel="auto",
                                auto=True)
                )
                log_event = "approval.step_self_approved"
            else:
                all_decisions = self._decisions(session, instance_id)
                changed_at = mapping.utc(instance.form_changed_at) if instance.form_changed_at else None
                records = [
                    domain.StepRecord(
                        status=s.status,
                        approvers=tuple(s.approvers),
                        approved_by=tuple(
                            d.user_id for d in all_decisions if d.step_index == s.step_index and d.action == "approve"
                        ),
                        stale=changed_at is not None
                        and s.decided_at is not None
                        and mapping.utc(s.decided_at) < changed_at,
                    )
                    for s in earlier
                ]
                if config.get("auto_consecutive", True) and domain.should_auto_approve(step.approvers, records):
                    auto = True
                    step.status = domain.STEP_APPROVED
                    step.decided_at = now
                    decisions.append(
                        self._audit(session, instance_id=instance_id, step_index=step_index,
                                    user_id=step.approvers[0], action="approve", now=now,
                                    comment=domain.AUTO_APPROVE_COMMENT, channel="auto", auto=True)
                    )
                    log_event = "approval.step_auto_approved"
                else:
                    step.status = domain.STEP_PENDING
                    approvers = list(dict.fromkeys(step.approvers))
                    if step.mode == "sequential":
                        approvers = approvers[:1]
                    for approver in approvers:
                        tasks.append(self._new_task(session, instance, step, approver, now))
                    if not approvers:
                        log_event = "approval.step_blocked"
            cc_users = list(config.get("cc") or []) if step.status == domain.STEP_PENDING else []
            for user in cc_users:
                session.add(ApprovalCC(id=_new_id(), instance_id=instance_id, project_id=instance.project_id,
                                       step_index=step_index, user_id=user, by_user_id=domain.SYSTEM_ACTOR,
                                       created_at=now))
            session.add(step)
            self._settle_instance(session, instance, steps)
            session.flush()
            due, timers = self._timers(step) if step.status == domain.STEP_PENDING else (None, [])
            log.info(log_event, project_id=instance.project_id, instance_id=instance_id, step_index=step_index,
                     approvers=list(step.approvers), tasks=len(tasks), timers=len(timers))
            return pb.OpenStepResponse(
                step=mapping.step_state_to_proto(step, decisions, due),
                tasks=[mapping.task_to_proto(t) for t in tasks],
                auto_approved=auto,
                timers=[mapping.timer_to_proto(t) for t in timers],
                due_at=mapping.timestamp(due),
                cc=cc_users,
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_OPEN_STEP,
                        response_type=pb.OpenStepResponse, apply=apply)

    # ------------------------------------------------------------ decisions

    def record_decision(
        self,
        *,
        request_id: str,
        task_id: str,
        actor_id: str,
        action: str,
        comment: str,
        channel: str,
        to_user_id: str = "",
        position: str = "",
        to_step: int | None = None,
        attachments: Sequence[dict[str, str]] = (),
        link_id: str = "",
    ) -> pb.RecordDecisionResponse:
        link_id = link_id.strip()
        if link_id:
            channel = group_links.channel_of(link_id)  # link, or group_link (g:<link>:<task>)

        def apply(session: Session) -> pb.RecordDecisionResponse:
            found = session.get(ApprovalTask, task_id)
            if found is None:
                raise NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")
            if action not in domain.ACTIONS:
                raise ValidationFailed([FieldViolation(
                    "action", "操作须为 approve、reject、return、transfer 或 add_approver",
                    "action must be approve, reject, return, transfer or add_approver")])
            if link_id and action not in ("approve", "reject"):
                raise ValidationFailed([FieldViolation("action", "审批链接只能通过或驳回",
                                                       "an action link can only approve or reject")])
            # Serialise decisions on one instance (PostgreSQL row lock; SQLite holds the write
            # lock since BEGIN IMMEDIATE), then read the current state.
            instance = self._lock_instance(session, found.instance_id)
            stored = self._stored_response(session, M_RECORD_DECISION, request_id)
            if stored is not None:
                return pb.RecordDecisionResponse.FromString(stored)
            # A used link stays used, whatever happened to the task since (410 before 409).
            if link_id and session.get(ApprovalLinkUse, link_id) is not None:
                raise _link_used()
            now = _now()
            behalf = domain.acting_for(actor_id, found.approver_id,
                                       self._delegations_of(session, [found.approver_id]), now)
            if behalf is None:
                raise _not_approver()
            session.refresh(found)
            steps = self._steps(session, instance.id)
            step = next(s for s in steps if s.step_index == found.step_index)
            if link_id and found.status == domain.TASK_CLOSED and self._closed_by(session, found):
                # The link's approver no longer holds the task (transferred or reassigned): 403.
                raise Forbidden("该审批任务已转交他人", "the task was handed to someone else", code="not_assignee")
            if (
                found.status != domain.TASK_PENDING
                or instance.status != domain.INSTANCE_PENDING
                or step.status != domain.STEP_PENDING
            ):
                raise _already_decided()
            target = to_user_id.strip()
            if action in ("transfer", "add_approver"):
                current = {t.approver_id for t in self._current_tasks(session, step)
                           if t.status in (domain.TASK_PENDING, domain.TASK_WAITING)}
                if target in current or target == actor_id:
                    raise ValidationFailed([FieldViolation("to_user_id", f"{target} 已是该步骤的审批人",
                                                           f"{target} is already an approver of this step")])
            data: dict[str, Any] = {}
            if attachments:
                data["attachments"] = list(attachments)
            new_tasks: list[ApprovalTask] = []
            return_to = -1
            outcome = domain.OUTCOME_PENDING

            def closed(status: str) -> None:
                result = session.execute(
                    sa.update(ApprovalTask)
                    .where(col(ApprovalTask.id) == task_id, col(ApprovalTask.status) == domain.TASK_PENDING)
                    .values(status=status, decided_at=now)
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    raise _already_decided()

            if action in ("approve", "reject"):
                closed(domain.TASK_APPROVED if action == "approve" else domain.TASK_REJECTED)
                session.refresh(found)
                if action == "approve" and found.kind == domain.KIND_BEFORE and found.blocks_task_id:
                    held = session.get(ApprovalTask, found.blocks_task_id)
                    if held is not None and held.status == domain.TASK_WAITING:
                        held.status = domain.TASK_PENDING
                        held.opened_at = now
                        session.add(held)
                        new_tasks.append(held)
            elif action == "return":
                if to_step is not None:
                    back = next((s for s in steps if s.step_index == to_step), None)
                    if back is None or to_step >= step.step_index or back.status != domain.STEP_APPROVED:
                        raise ValidationFailed([FieldViolation("to_step", "只能退回到已通过的前序步骤",
                                                               "can only return to an earlier approved step")])
                closed(domain.TASK_CLOSED)
                self._close_open_tasks(session, instance.id, step.step_index, now)
                outcome = domain.OUTCOME_RETURNED
                if to_step is None:
                    step.status = domain.STEP_RETURNED
                    step.decided_at = now
                    instance.status = domain.INSTANCE_RETURNED
                    instance.returned_step = step.step_index
                    session.add(instance)
                else:
                    return_to = to_step
                    for s in steps:
                        if to_step <= s.step_index <= step.step_index:
                            s.status = domain.STEP_WAITING
                            s.opened_at = None
                            s.decided_at = None
                            session.add(s)
                    data["to_step"] = to_step
                session.add(step)
            elif action == "transfer":
                closed(domain.TASK_CLOSED)
                new = self._new_task(session, instance, step, target, now, kind=found.kind or domain.KIND_NORMAL)
                new_tasks.append(new)
                session.execute(
                    sa.update(ApprovalTask)
                    .where(col(ApprovalTask.blocks_task_id) == task_id)
                    .values(blocks_task_id=new.id)
                    .execution_options(synchronize_session=False)
                )
                step.approvers = [target if a == found.approver_id else a for a in step.approvers]
                session.add(step)
            else:  # add_approver
                where = position or "parallel"
                if where not in domain.POSITIONS:
                    raise ValidationFailed([FieldViolation("position", "须为 before、after 或 parallel",
                                                           "position must be before, after or parallel")])
                data["position"] = where
                if where == "parallel":
                    new_tasks.append(self._new_task(session, instance, step, target, now))
                elif where == "before":
                    closed(domain.TASK_WAITING)
                    new_tasks.append(self._new_task(session, instance, step, target, now, kind=domain.KIND_BEFORE,
                                                    blocks=task_id))
                else:
                    closed(domain.TASK_APPROVED)
                    new_tasks.append(self._new_task(session, instance, step, target, now, kind=domain.KIND_AFTER))
                if target not in step.approvers:
                    step.approvers = [*step.approvers, target]
                    session.add(step)
            if link_id:
                data["link_id"] = link_id
            self._audit(session, instance_id=instance.id, step_index=step.step_index, user_id=actor_id,
                        action=action, now=now, task_id=task_id, comment=comment, channel=channel,
                        on_behalf_of=behalf, target_user_id=target, data=data)
            session.flush()
            if link_id:
                # Same transaction as the decision: the primary key makes a second use fail.
                session.add(ApprovalLinkUse(link_id=link_id, task_id=task_id, user_id=actor_id, at=now))
                try:
                    session.flush()
                except IntegrityError as err:
                    raise _link_used() from err
            if outcome == domain.OUTCOME_PENDING:
                outcome = self._outcome(step, self._current_tasks(session, step))
                if outcome == domain.OUTCOME_PENDING:
                    new_tasks.extend(self._next_in_sequence(session, instance, step, now))
                self._settle_step(session, instance, steps, step, outcome, now)
            session.flush()
            session.refresh(found)
            log.info("approval.decided", project_id=instance.project_id, instance_id=instance.id, task_id=task_id,
                     step_index=step.step_index, actor_id=actor_id, on_behalf_of=behalf, action=action,
                     outcome=outcome, channel=channel or "api", new_tasks=len(new_tasks))
            return pb.RecordDecisionResponse(
                task=mapping.task_to_proto(found),
                step=self._step_response(session, step),
                step_outcome=outcome,
                new_tasks=[mapping.task_to_proto(t) for t in new_tasks if t.status == domain.TASK_PENDING],
                return_to=return_to,
                on_behalf_of=behalf,
                pending_approvers=self._pending_approvers(session, step),
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_RECORD_DECISION,
                        response_type=pb.RecordDecisionResponse, apply=apply)

    # ------------------------------------------------------------ timers

    def fire_timer(
        self, *, request_id: str, instance_id: str, step_index: int, timer_index: int
    ) -> pb.FireTimerResponse:
        def apply(session: Session) -> pb.FireTimerResponse:
            instance = self._lock_instance(session, instance_id)
            stored = self._stored_response(session, M_FIRE_TIMER, request_id)
            if stored is not None:
                return pb.FireTimerResponse.FromString(stored)
            steps = self._steps(session, instance_id)
            step = next((s for s in steps if s.step_index == step_index), None)
            if step is None:
                raise NotFound(f"审批步骤不存在：{step_index}", f"unknown approval step: {step_index}")
            _, timers = self._timers(step)
            timer = next((t for t in timers if t.index == timer_index), None)
            if timer is None:
                raise NotFound(f"定时器不存在：{timer_index}", f"unknown timer: {timer_index}")
            if instance.status != domain.INSTANCE_PENDING or step.status != domain.STEP_PENDING:
                # A decision (or an earlier timer) settled the step first: nothing to do.
                return pb.FireTimerResponse(fired=False, action=timer.action, step_outcome=_outcome_of(step),
                                            step=self._step_response(session, step))
            now = _now()
            tasks = self._current_tasks(session, step)
            pending = [t.approver_id for t in tasks if t.status == domain.TASK_PENDING]
            new_tasks: list[ApprovalTask] = []
            outcome = domain.OUTCOME_PENDING
            data = {"level": timer.level, "timer": timer.index}
            if timer.action == "remind":
                self._audit(session, instance_id=instance_id, step_index=step_index, user_id=domain.SYSTEM_ACTOR,
                            action="remind", now=now, channel="system", auto=True, data={**data, "to": pending})
            elif timer.action == "escalate":
                open_ids = {t.approver_id for t in tasks if t.status in (domain.TASK_PENDING, domain.TASK_WAITING)}
                for user in timer.to:
                    if user not in open_ids:
                        new_tasks.append(self._new_task(session, instance, step, user, now,
                                                        kind=domain.KIND_ESCALATED))
                        open_ids.add(user)
                step.approvers = list(dict.fromkeys([*step.approvers, *timer.to]))
                session.add(step)
                self._audit(session, instance_id=instance_id, step_index=step_index, user_id=domain.SYSTEM_ACTOR,
                            action="escalate", now=now, channel="system", auto=True,
                            target_user_id=",".join(timer.to), data={**data, "to": list(timer.to)})
            else:
                outcome = domain.OUTCOME_APPROVED if timer.action == "approve" else domain.OUTCOME_REJECTED
                self._audit(session, instance_id=instance_id, step_index=step_index, user_id=domain.SYSTEM_ACTOR,
                            action=f"timeout_{timer.action}", now=now, channel="system", auto=True,
                            comment="审批超时，按策略自动处理", data=data)
                self._settle_step(session, instance, steps, step, outcome, now)
            session.flush()
            log.info("approval.timer_fired", project_id=instance.project_id, instance_id=instance_id,
                     step_index=step_index, timer=timer.index, action=timer.action, level=timer.level,
                     outcome=outcome)
            return pb.FireTimerResponse(
                fired=True,
                action=timer.action,
                step_outcome=outcome,
                new_tasks=[mapping.task_to_proto(t) for t in new_tasks],
                remind_user_ids=pending if timer.action == "remind" else [],
                step=self._step_response(session, step),
                pending_approvers=self._pending_approvers(session, step),
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_FIRE_TIMER,
                        response_type=pb.FireTimerResponse, apply=apply)

    # ------------------------------------------------------------ resubmission, withdrawal, admin

    def returned_chain(self, *, instance_id: str) -> ReturnedChain | None:
        """What a returned approval was planned from and the chain it got; None when the
        instance is not (or no longer) returned."""
        with Session(self.engine) as session:
            row = session.get(ApprovalInstance, instance_id)
            if row is None or row.status != domain.INSTANCE_RETURNED:
                return None
            chain = [(s.name, tuple((s.provenance or {}).get("planned", s.approvers)))
                     for s in self._steps(session, instance_id)]
            return ReturnedChain(form_key=row.form_key, submitter_id=row.submitter_id,
                                 inputs=dict(row.inputs or {}), chain=chain)

    def resume_instance(
        self,
        *,
        request_id: str,
        instance_id: str,
        facts: domain.ProjectFacts,
        actor_id: str,
        replan: Replan | None = None,
    ) -> pb.ResumeInstanceResponse:
        """Resume a returned approval at the returning step, or, with ``replan`` (the routing facts
        changed), supersede it by a new chain that starts from its first step."""

        def apply(session: Session) -> pb.ResumeInstanceResponse:
            instance = self._lock_instance(session, instance_id)
            stored = self._stored_response(session, M_RESUME, request_id)
            if stored is not None:
                return pb.ResumeInstanceResponse.FromString(stored)
            if instance.status != domain.INSTANCE_RETURNED:
                raise Conflict("审批未处于退回状态", "the approval is not returned", code="illegal_transition")
            now = _now()
            if replan is not None:
                return self._replanned(session, instance, replan, facts=facts, actor_id=actor_id, now=now)
            steps = self._steps(session, instance_id)
            resume_from = max(instance.returned_step, 0)
            for s in steps:
                if s.step_index >= resume_from and s.status in (domain.STEP_RETURNED, domain.STEP_PENDING):
                    s.status = domain.STEP_WAITING
                    s.opened_at = None
                    s.decided_at = None
                    session.add(s)
            new_hash = facts.content_hash()
            changed = bool(instance.form_hash) and new_hash != instance.form_hash
            if changed:
                instance.form_changed_at = now
            instance.form_hash = new_hash
            instance.inputs = {**(instance.inputs or {}), "project": facts.as_dict()}
            instance.status = domain.INSTANCE_PENDING
            instance.decided_at = None
            instance.returned_step = -1
            session.add(instance)
            self._audit(session, instance_id=instance_id, step_index=resume_from, user_id=actor_id,
                        action="resubmit", now=now, data={"form_changed": changed})
            session.flush()
            log.info("approval.resumed", project_id=instance.project_id, instance_id=instance_id,
                     resume_from=resume_from, form_changed=changed)
            return pb.ResumeInstanceResponse(
                instance_id=instance_id,
                resume_from=resume_from,
                steps=[mapping.stored_step_to_planned(s) for s in steps],
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_RESUME,
                        response_type=pb.ResumeInstanceResponse, apply=apply)

    def _replanned(
        self,
        session: Session,
        old: ApprovalInstance,
        replan: Replan,
        *,
        facts: domain.ProjectFacts,
        actor_id: str,
        now: datetime,
    ) -> pb.ResumeInstanceResponse:
        inputs = {**replan.inputs, "replanned": {"reason": replan.reason, "from_instance": old.id}}
        self._audit(session, instance_id=old.id, step_index=-1, user_id=actor_id, action="resubmit", now=now,
                    data={"replanned": replan.reason})
        instance = self._new_instance(session, facts=facts, submitter_id=old.submitter_id, policy=replan.policy,
                                      steps=replan.steps, inputs=inputs)
        session.flush()
        log.info("approval.replanned", project_id=old.project_id, instance_id=instance.id, previous=old.id,
                 reason=replan.reason, steps=len(replan.steps))
        return pb.ResumeInstanceResponse(
            instance_id=instance.id,
            resume_from=0,
            steps=[mapping.planned_step_to_proto(s) for s in replan.steps],
            replanned=replan.reason,
        )

    def cancel_instance(
        self, *, request_id: str, instance_id: str, actor_id: str, action: str, comment: str, channel: str
    ) -> pb.CancelInstanceResponse:
        def apply(session: Session) -> pb.CancelInstanceResponse:
            instance = self._lock_instance(session, instance_id)
            stored = self._stored_response(session, M_CANCEL, request_id)
            if stored is not None:
                return pb.CancelInstanceResponse.FromString(stored)
            if instance.status not in (domain.INSTANCE_PENDING, domain.INSTANCE_RETURNED):
                raise Conflict(
                    "审批已结束，无法撤回或取消",
                    "the approval is over and cannot be withdrawn or cancelled",
                    code="already_decided",
                )
            now = _now()
            self._close_open_tasks(session, instance_id, None, now)
            instance.status = domain.INSTANCE_CANCELLED
            instance.decided_at = now
            session.add(instance)
            self._audit(session, instance_id=instance_id, step_index=-1, user_id=actor_id,
                        action="cancel" if action == "cancel" else "withdraw", now=now, comment=comment,
                        channel=channel)
            session.flush()
            log.info("approval.cancelled", project_id=instance.project_id, instance_id=instance_id, actor_id=actor_id,
                     action=action)
            return pb.CancelInstanceResponse(instance=self._instance_proto(session, instance))

        return run_once(self.engine, processed_request, request_id=request_id, method=M_CANCEL,
                        response_type=pb.CancelInstanceResponse, apply=apply)

    def reassign_step(
        self,
        *,
        request_id: str,
        instance_id: str,
        step_index: int,
        from_user_id: str,
        to_user_id: str,
        actor_id: str,
        comment: str,
    ) -> pb.ReassignStepResponse:
        def apply(session: Session) -> pb.ReassignStepResponse:
            instance = self._lock_instance(session, instance_id)
            stored = self._stored_response(session, M_REASSIGN, request_id)
            if stored is not None:
                return pb.ReassignStepResponse.FromString(stored)
            steps = self._steps(session, instance_id)
            step = next((s for s in steps if s.step_index == step_index), None)
            if step is None:
                raise NotFound(f"审批步骤不存在：{step_index}", f"unknown approval step: {step_index}")
            if instance.status != domain.INSTANCE_PENDING or step.status != domain.STEP_PENDING:
                raise Conflict("该步骤不在审批中", "the step is not pending", code="illegal_state")
            now = _now()
            tasks = self._current_tasks(session, step)
            open_tasks = [t for t in tasks if t.status in (domain.TASK_PENDING, domain.TASK_WAITING)]
            moving = [t for t in open_tasks if not from_user_id or t.approver_id == from_user_id]
            if from_user_id and not moving:
                raise ValidationFailed([FieldViolation("from_user_id", f"{from_user_id} 不是该步骤的待审批人",
                                                       f"{from_user_id} has no open task in this step")])
            if any(t.approver_id == to_user_id for t in open_tasks if t not in moving):
                raise ValidationFailed([FieldViolation("to_user_id", f"{to_user_id} 已是该步骤的审批人",
                                                       f"{to_user_id} is already an approver of this step")])
            new_tasks: list[ApprovalTask] = []
            for t in moving:
                t.status = domain.TASK_CLOSED
                t.decided_at = now
                session.add(t)
            kinds = {t.kind for t in moving} or {domain.KIND_NORMAL}
            kind = domain.KIND_NORMAL if domain.KIND_NORMAL in kinds else sorted(kinds)[0]
            new = self._new_task(session, instance, step, to_user_id, now, kind=kind)
            new_tasks.append(new)
            for t in moving:
                session.execute(
                    sa.update(ApprovalTask).where(col(ApprovalTask.blocks_task_id) == t.id)
                    .values(blocks_task_id=new.id).execution_options(synchronize_session=False)
                )
            moved = {t.approver_id for t in moving}
            step.approvers = list(dict.fromkeys([to_user_id if a in moved else a for a in step.approvers]
                                                + ([to_user_id] if not moved else [])))
            step.config = {**(step.config or {}), "blocked": False}
            session.add(step)
            self._audit(session, instance_id=instance_id, step_index=step_index, user_id=actor_id, action="reassign",
                        now=now, comment=comment, target_user_id=to_user_id,
                        data={"from": sorted(moved)})
            session.flush()
            log.info("approval.reassigned", project_id=instance.project_id, instance_id=instance_id,
                     step_index=step_index, from_users=sorted(moved), to_user=to_user_id, actor_id=actor_id)
            return pb.ReassignStepResponse(new_tasks=[mapping.task_to_proto(t) for t in new_tasks],
                                           step=self._step_response(session, step),
                                           pending_approvers=self._pending_approvers(session, step))

        return run_once(self.engine, processed_request, request_id=request_id, method=M_REASSIGN,
                        response_type=pb.ReassignStepResponse, apply=apply)

    def record_action(
        self,
        *,
        request_id: str,
        instance_id: str,
        step_index: int,
        actor_id: str,
        action: str,
        comment: str,
        channel: str,
        user_ids: Sequence[str] = (),
        attachments: Sequence[dict[str, str]] = (),
    ) -> pb.RecordActionResponse:
        def apply(session: Session) -> pb.RecordActionResponse:
            instance = self._lock_instance(session, instance_id)
            stored = self._stored_response(session, M_ACTION, request_id)
            if stored is not None:
                return pb.RecordActionResponse.FromString(stored)
            if action not in ("remind", "comment", "cc"):
                raise ValidationFailed([FieldViolation("action", "须为 remind、comment 或 cc",
                                                       "action must be remind, comment or cc")])
            index = step_index
            if index < 0:
                current = next((s for s in self._steps(session, instance_id) if s.status == domain.STEP_PENDING), None)
                index = current.step_index if current else -1
            now = _now()
            made: list[ApprovalCC] = []
            if action == "cc":
                existing = {
                    c.user_id
                    for c in session.exec(
                        select(ApprovalCC).where(ApprovalCC.instance_id == instance_id, ApprovalCC.step_index == index)
                    ).all()
                }
                for user in dict.fromkeys(user_ids):
                    if user and user not in existing:
                        copy = ApprovalCC(id=_new_id(), instance_id=instance_id, project_id=instance.project_id,
                                          step_index=index, user_id=user, by_user_id=actor_id, created_at=now)
                        session.add(copy)
                        made.append(copy)
            data: dict[str, Any] = {}
            if attachments:
                data["attachments"] = list(attachments)
            if user_ids:
                data["user_ids"] = list(user_ids)
            row = self._audit(session, instance_id=instance_id, step_index=index, user_id=actor_id, action=action,
                              now=now, comment=comment, channel=channel, data=data)
            session.flush()
            log.info("approval.action", project_id=instance.project_id, instance_id=instance_id, action=action,
                     actor_id=actor_id, step_index=index)
            return pb.RecordActionResponse(action=mapping.decision_to_proto(row),
                                           cc=[mapping.cc_to_proto(c) for c in made], step_index=index)

        return run_once(self.engine, processed_request, request_id=request_id, method=M_ACTION,
                        response_type=pb.RecordActionResponse, apply=apply)

    # ------------------------------------------------------------ cc and delegation

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
                    .values(read_at=_now()).execution_options(synchronize_session=False)
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
                                         ends_at=ends_at, created_at=_now())
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

    # ------------------------------------------------------------ reads

    def get_task(self, *, task_id: str, actor_id: str = "") -> pb.GetTaskResponse:
        with Session(self.engine) as session:
            row = session.get(ApprovalTask, task_id)
            if row is None:
                raise NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")
            if not actor_id:
                return pb.GetTaskResponse(task=mapping.task_to_proto(row))
            behalf = domain.acting_for(actor_id, row.approver_id, self._delegations_of(session, [row.approver_id]),
                                       _now())
            return pb.GetTaskResponse(task=mapping.task_to_proto(row), may_act=behalf is not None,
                                      on_behalf_of=behalf or "")

    def check_action_link(self, *, link_id: str, task_id: str, approver_id: str) -> pb.CheckActionLinkResponse:
        """May the action link (bound to ``task_id`` and ``approver_id``) be used now? See
        ``domain.action_link_state``."""
        with Session(self.engine) as session:
            task = session.get(ApprovalTask, task_id)
            if task is None:
                raise NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")
            instance = session.get(ApprovalInstance, task.instance_id)
            step = session.exec(
                select(ApprovalStep).where(
                    ApprovalStep.instance_id == task.instance_id, ApprovalStep.step_index == task.step_index
                )
            ).first()
            closed_by = self._closed_by(session, task) if task.status == domain.TASK_CLOSED else ""
            state = domain.action_link_state(
                domain.LinkFacts(
                    used=bool(link_id) and session.get(ApprovalLinkUse, link_id) is not None,
                    link_approver_id=approver_id,
                    task_approver_id=task.approver_id,
                    task_status=task.status,
                    step_status=step.status if step is not None else "",
                    instance_status=instance.status if instance is not None else "",
                    closed_by=closed_by,
                )
            )
            log.info("approval.link_checked", project_id=task.project_id, task_id=task_id, link_id=link_id,
                     state=state, closed_by=closed_by)
            return pb.CheckActionLinkResponse(state=state, task=mapping.task_to_proto(task))

    @staticmethod
    def _closed_by(session: Session, task: ApprovalTask) -> str:
        """transfer / reassign when the closed task was moved to someone else, else ""."""
        transferred = session.exec(
            select(ApprovalDecision.id).where(
                ApprovalDecision.task_id == task.id, ApprovalDecision.action == "transfer"
            )
        ).first()
        if transferred is not None:
            return domain.CLOSED_BY_TRANSFER
        reassigns = session.exec(
            select(ApprovalDecision).where(
                ApprovalDecision.instance_id == task.instance_id,
                ApprovalDecision.step_index == task.step_index,
                ApprovalDecision.action == "reassign",
            )
        ).all()
        created = mapping.utc(task.created_at)
        for r in reassigns:
            if mapping.utc(r.at) >= created and task.approver_id in ((r.data or {}).get("from") or []):
                return domain.CLOSED_BY_REASSIGN
        return ""

    def list_todos(self, *, user_id: str) -> list[pb.ApprovalTask]:
        with Session(self.engine) as session:
            now = _now()
            principals = [d.user_id for d in self._delegations_to(session, user_id) if d.active(now)]
            stmt = (
                select(ApprovalTask)
                .join(ApprovalInstance, col(ApprovalInstance.id) == col(ApprovalTask.instance_id))
                .where(
                    col(ApprovalTask.approver_id).in_([user_id, *principals]),
                    ApprovalTask.status == domain.TASK_PENDING,
                    ApprovalInstance.status == domain.INSTANCE_PENDING,
                )
                .order_by(col(ApprovalTask.created_at), col(ApprovalTask.id))
            )
            return [
                mapping.task_to_proto(t, on_behalf_of="" if t.approver_id == user_id else t.approver_id)
                for t in session.exec(stmt).all()
            ]

    def _instance_proto(self, session: Session, row: ApprovalInstance) -> pb.Instance:
        steps = self._steps(session, row.id)
        cc = session.exec(
            select(ApprovalCC).where(ApprovalCC.instance_id == row.id).order_by(col(ApprovalCC.created_at))
        ).all()
        dues = {s.step_index: self._timers(s)[0] for s in steps if s.status == domain.STEP_PENDING}
        return mapping.instance_to_proto(row, steps, self._decisions(session, row.id), cc, dues)

    def get_instance(self, *, project_id: str) -> pb.Instance:
        with Session(self.engine) as session:
            stmt = (
                select(ApprovalInstance)
                .where(ApprovalInstance.project_id == project_id)
                .order_by(col(ApprovalInstance.attempt).desc())
                .limit(1)
            )
            row = session.exec(stmt).first()
            if row is None:
                raise NotFound(f"项目尚无审批记录：{project_id}", f"no approval for project: {project_id}")
            return self._instance_proto(session, row)

    def list_approver_projects(self, *, user_id: str) -> list[str]:
        with Session(self.engine) as session:
            now = _now()
            principals = [d.user_id for d in self._delegations_to(session, user_id) if d.active(now)]
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

    def recent_submissions(self, *, form_key: str, limit: int) -> list[Submission]:
        """The latest instance of each of the last ``limit`` projects of a form that kept their
        planning inputs: (instance id, project id, inputs, [(step name, approvers)])."""
        stmt = (
            select(ApprovalInstance)
            .where(ApprovalInstance.form_key == form_key, col(ApprovalInstance.inputs).is_not(None))
            .order_by(col(ApprovalInstance.created_at).desc())
            .limit(limit * 3)
        )
        out: list[Submission] = []
        seen: set[str] = set()
        with Session(self.engine) as session:
            for row in session.exec(stmt).all():
                if row.project_id in seen or row.inputs is None:
                    continue
                seen.add(row.project_id)
                steps = [(s.name, _planned_approvers(s)) for s in self._steps(session, row.id)]
                out.append((row.id, row.project_id, dict(row.inputs), steps))
                if len(out) >= limit:
                    break
        return out


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


def _planned_approvers(step: ApprovalStep) -> list[str]:
    """Approvers as planned (provenance keeps them; later transfers do not count as routing)."""
    prov = step.provenance or {}
    if prov and not (step.config or {}).get("blocked") and "planned" in prov:
        return list(prov["planned"])
    return list(step.approvers)


def _delegation(row: ApprovalDelegation) -> domain.Delegation:
    return domain.Delegation(
        user_id=row.user_id,
        delegate_id=row.delegate_id,
        starts_at=mapping.utc(row.starts_at),
        ends_at=mapping.utc(row.ends_at),
    )


def _outcome_of(step: ApprovalStep) -> str:
    return {
        domain.STEP_APPROVED: domain.OUTCOME_APPROVED,
        domain.STEP_REJECTED: domain.OUTCOME_REJECTED,
        domain.STEP_RETURNED: domain.OUTCOME_RETURNED,
    }.get(step.status, domain.OUTCOME_PENDING)
