"""Persistence of policies, instances, steps, tasks and decisions. Mutating operations run in
one transaction through ``run_once`` (request-id idempotency); decisions are exactly-once through
a row lock on the instance plus conditional updates whose row counts are checked."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import run_once
from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from services.approval import domain, mapping
from services.approval.models import (
    ApprovalDecision,
    ApprovalInstance,
    ApprovalStep,
    ApprovalTask,
    PolicyVersion,
    processed_request,
)

log = structlog.get_logger(__name__)

M_PUT_POLICY, M_PLAN_CHAIN, M_OPEN_STEP, M_RECORD_DECISION = "PutPolicy", "PlanChain", "OpenStep", "RecordDecision"
INSTANCE_SUPERSEDED = "superseded"


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


class ApprovalStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------ policies

    def put_policy(
        self, *, request_id: str, key: str, form_key: str, steps: Sequence[domain.StepSpec]
    ) -> pb.PutPolicyResponse:
        definition = [s.as_dict() for s in steps]
        form_key = form_key.strip()

        def apply(session: Session) -> pb.PutPolicyResponse:
            latest = self._latest_policy(session, key)
            if latest is not None and latest.form_key == form_key and list(latest.steps) == definition:
                return pb.PutPolicyResponse(key=key, version=latest.version, created=False)
            version = (latest.version if latest else 0) + 1
            session.add(PolicyVersion(key=key, version=version, form_key=form_key, steps=definition, created_at=_now()))
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

    def plan_chain(
        self,
        *,
        request_id: str,
        facts: domain.ProjectFacts,
        submitter_id: str,
        policy: domain.Policy | None,
        steps: Sequence[domain.PlannedStep],
    ) -> pb.PlanChainResponse:
        def apply(session: Session) -> pb.PlanChainResponse:
            project_id = facts.project_id
            previous = session.exec(
                select(ApprovalInstance).where(ApprovalInstance.project_id == project_id).with_for_update()
            ).all()
            now = _now()
            # A resubmission supersedes what is still open of earlier submissions.
            for old in previous:
                if old.status == domain.INSTANCE_PENDING:
                    old.status = INSTANCE_SUPERSEDED
                    old.decided_at = now
                    session.add(old)
                    session.execute(
                        sa.update(ApprovalTask)
                        .where(col(ApprovalTask.instance_id) == old.id, col(ApprovalTask.status) == domain.TASK_PENDING)
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
            )
            session.add(instance)
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
                    )
                )
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
    def _step_tasks(session: Session, instance_id: str, step_index: int) -> list[ApprovalTask]:
        stmt = (
            select(ApprovalTask)
            .where(ApprovalTask.instance_id == instance_id, ApprovalTask.step_index == step_index)
            .order_by(col(ApprovalTask.created_at), col(ApprovalTask.approver_id))
            .execution_options(populate_existing=True)
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
                return pb.OpenStepResponse(
                    step=mapping.step_state_to_proto(step, so_far),
                    tasks=[mapping.task_to_proto(t) for t in self._step_tasks(session, instance_id, step_index)],
                    auto_approved=any(d.auto for d in so_far),
                )
            if instance.status != domain.INSTANCE_PENDING:
                raise Conflict("审批已结束", "the approval is over", code="already_decided")
            earlier = [s for s in steps if s.step_index < step_index]
            if any(s.status not in (domain.STEP_APPROVED, domain.STEP_SKIPPED) for s in earlier):
                raise Conflict("前序审批步骤尚未完成", "an earlier step is not finished", code="illegal_transition")

            now = _now()
            step.opened_at = now
            tasks: list[ApprovalTask] = []
            decisions: list[ApprovalDecision] = []
            auto = False
            log_event = "approval.step_opened"
            if not step.approvers:
                step.status = domain.STEP_SKIPPED
                step.decided_at = now
                log_event = "approval.step_skipped"
            else:
                all_decisions = self._decisions(session, instance_id)
                records = [
                    domain.StepRecord(
                        status=s.status,
                        approvers=tuple(s.approvers),
                        approved_by=tuple(
                            d.user_id for d in all_decisions if d.step_index == s.step_index and d.action == "approve"
                        ),
                    )
                    for s in earlier
                ]
                if domain.should_auto_approve(step.approvers, records):
                    auto = True
                    step.status = domain.STEP_APPROVED
                    step.decided_at = now
                    decision = ApprovalDecision(
                        instance_id=instance_id,
                        step_index=step_index,
                        task_id="",
                        user_id=step.approvers[0],
                        action="approve",
                        comment=domain.AUTO_APPROVE_COMMENT,
                        channel="auto",
                        auto=True,
                        at=now,
                    )
                    session.add(decision)
                    decisions.append(decision)
                    log_event = "approval.step_auto_approved"
                else:
                    step.status = domain.STEP_PENDING
                    due = now + timedelta(seconds=step.sla_seconds) if step.sla_seconds > 0 else None
                    for approver in dict.fromkeys(step.approvers):
                        task = ApprovalTask(
                            id=_new_id(),
                            instance_id=instance_id,
                            project_id=instance.project_id,
                            step_index=step_index,
                            step_name=step.name,
                            approver_id=approver,
                            status=domain.TASK_PENDING,
                            due_at=due,
                            created_at=now,
                        )
                        session.add(task)
                        tasks.append(task)
            session.add(step)
            self._settle_instance(session, instance, steps)
            session.flush()
            log.info(log_event, project_id=instance.project_id, instance_id=instance_id, step_index=step_index,
                     approvers=list(step.approvers), tasks=len(tasks))
            return pb.OpenStepResponse(
                step=mapping.step_state_to_proto(step, decisions),
                tasks=[mapping.task_to_proto(t) for t in tasks],
                auto_approved=auto,
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_OPEN_STEP,
                        response_type=pb.OpenStepResponse, apply=apply)

    # ------------------------------------------------------------ decisions

    def record_decision(
        self, *, request_id: str, task_id: str, actor_id: str, action: str, comment: str, channel: str
    ) -> pb.RecordDecisionResponse:
        def apply(session: Session) -> pb.RecordDecisionResponse:
            found = session.get(ApprovalTask, task_id)
            if found is None:
                raise NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")
            if action not in domain.ACTIONS:
                raise ValidationFailed([FieldViolation("action", "操作须为 approve 或 reject",
                                                       "action must be approve or reject")])
            if actor_id != found.approver_id:
                raise _not_approver()
            # Serialise decisions on one instance (PostgreSQL row lock; SQLite holds the write
            # lock since BEGIN IMMEDIATE), then read the current state.
            instance = self._lock_instance(session, found.instance_id)
            stored = self._stored_response(session, M_RECORD_DECISION, request_id)
            if stored is not None:
                return pb.RecordDecisionResponse.FromString(stored)
            session.refresh(found)
            steps = self._steps(session, instance.id)
            step = next(s for s in steps if s.step_index == found.step_index)
            if (
                found.status != domain.TASK_PENDING
                or instance.status != domain.INSTANCE_PENDING
                or step.status != domain.STEP_PENDING
            ):
                raise _already_decided()
            now = _now()
            new_status = domain.TASK_APPROVED if action == "approve" else domain.TASK_REJECTED
            result = session.execute(
                sa.update(ApprovalTask)
                .where(col(ApprovalTask.id) == task_id, col(ApprovalTask.status) == domain.TASK_PENDING)
                .values(status=new_status, decided_at=now)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise _already_decided()
            session.add(
                ApprovalDecision(
                    instance_id=instance.id,
                    step_index=step.step_index,
                    task_id=task_id,
                    user_id=actor_id,
                    action=action,
                    comment=comment,
                    channel=channel or "api",
                    auto=False,
                    at=now,
                )
            )
            tasks = self._step_tasks(session, instance.id, step.step_index)
            outcome = domain.step_outcome(step.mode, [t.status for t in tasks])
            if outcome != domain.OUTCOME_PENDING:
                session.execute(
                    sa.update(ApprovalTask)
                    .where(
                        col(ApprovalTask.instance_id) == instance.id,
                        col(ApprovalTask.step_index) == step.step_index,
                        col(ApprovalTask.status) == domain.TASK_PENDING,
                    )
                    .values(status=domain.TASK_CLOSED, decided_at=now)
                    .execution_options(synchronize_session=False)
                )
                step.status = domain.STEP_APPROVED if outcome == domain.OUTCOME_APPROVED else domain.STEP_REJECTED
                step.decided_at = now
                session.add(step)
                self._settle_instance(session, instance, steps)
            session.flush()
            session.refresh(found)
            log.info("approval.decided", project_id=instance.project_id, instance_id=instance.id, task_id=task_id,
                     step_index=step.step_index, actor_id=actor_id, action=action, outcome=outcome,
                     channel=channel or "api")
            return pb.RecordDecisionResponse(
                task=mapping.task_to_proto(found),
                step=mapping.step_state_to_proto(step, self._decisions(session, instance.id, step.step_index)),
                step_outcome=outcome,
            )

        return run_once(self.engine, processed_request, request_id=request_id, method=M_RECORD_DECISION,
                        response_type=pb.RecordDecisionResponse, apply=apply)

    # ------------------------------------------------------------ reads

    def get_task(self, *, task_id: str) -> pb.ApprovalTask:
        with Session(self.engine) as session:
            row = session.get(ApprovalTask, task_id)
            if row is None:
                raise NotFound(f"审批任务不存在：{task_id}", f"unknown approval task: {task_id}")
            return mapping.task_to_proto(row)

    def list_todos(self, *, user_id: str) -> list[pb.ApprovalTask]:
        stmt = (
            select(ApprovalTask)
            .join(ApprovalInstance, col(ApprovalInstance.id) == col(ApprovalTask.instance_id))
            .where(
                ApprovalTask.approver_id == user_id,
                ApprovalTask.status == domain.TASK_PENDING,
                ApprovalInstance.status == domain.INSTANCE_PENDING,
            )
            .order_by(col(ApprovalTask.created_at), col(ApprovalTask.id))
        )
        with Session(self.engine) as session:
            return [mapping.task_to_proto(t) for t in session.exec(stmt).all()]

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
            return mapping.instance_to_proto(row, self._steps(session, row.id), self._decisions(session, row.id))

    def list_approver_projects(self, *, user_id: str) -> list[str]:
        stmt = (
            sa.select(ApprovalTask.project_id)  # type: ignore[call-overload]
            .where(col(ApprovalTask.approver_id) == user_id)
            .distinct()
            .order_by(ApprovalTask.project_id)
        )
        with Session(self.engine) as session:
            return [str(r[0]) for r in session.execute(stmt).all()]

