"""In-memory stand-ins for the four services, registered under the real activity names.

Each fake records its calls and is idempotent on ``request_id`` like the real services. A fake
listed in ``fail_first`` applies the first attempt of a call and then fails it with a retryable
error (as if the response were lost to an UNAVAILABLE), so tests can check a retried activity
takes effect once.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb
from services.approval import domain
from workflows.activities.reporting import typed_event
from workflows.contracts.approval import (
    APPROVAL_CANCEL,
    APPROVAL_FIRE_TIMER,
    APPROVAL_OPEN_STEP,
    APPROVAL_PLAN_CHAIN,
    APPROVAL_REASSIGN,
    APPROVAL_RECORD_ACTION,
    APPROVAL_RECORD_DECISION,
    APPROVAL_RESUME,
    CancelApprovalInput,
    CancelApprovalResult,
    ChainPlan,
    DecisionOutcome,
    FireTimerInput,
    FireTimerResult,
    OpenedStep,
    OpenStepInput,
    PlanChainInput,
    PlannedStep,
    ReassignStepInput,
    ReassignStepResult,
    RecordActionInput,
    RecordActionResult,
    RecordDecisionInput,
    ResumeApprovalInput,
    ResumedApproval,
    TaskRef,
    TimerRef,
)
from workflows.contracts.errors import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_VALIDATION
from workflows.contracts.finish import LIFECYCLE_FINISH, FinishInput
from workflows.contracts.notify import NOTIFY_SEND, SendInput, SendResult
from workflows.contracts.registry import (
    LIFECYCLE_START_DELIVERY,
    REGISTRY_GET_PROJECT,
    REGISTRY_SET_PROJECT_STATUS,
    REGISTRY_SUBMIT_PROJECT,
    GetProjectInput,
    ProjectSnapshot,
    SetProjectStatusInput,
    StartDeliveryInput,
    StartDeliveryResult,
    SubmitProjectInput,
)
from workflows.contracts.reporting import REPORTING_INGEST_EVENT, ReportEventInput, ReportEventResult


def refuse(err_type: str, message: str, violations: list[dict[str, str]] | None = None) -> ApplicationError:
    return ApplicationError(message, violations or [], type=err_type, non_retryable=True)


@dataclass
class StepSpec:
    name: str
    approvers: list[str]
    mode: str = "any"
    auto: bool = False
    sla_seconds: int = 0
    # Timers as the approval service computes them (domain.step_timers).
    sla: str = ""
    on_timeout: str = ""
    escalate_to: list[str] = field(default_factory=list)
    remind_at: float = 0.0
    # [{"after", "action", "to": [...]}]
    escalation: list[dict[str, Any]] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)


@dataclass
class Task:
    id: str
    step_index: int
    approver_id: str
    status: str = "pending"
    kind: str = "normal"


class Fakes:
    def __init__(self, *, project_id: str = "p1", owner_id: str = "owner", steps: list[StepSpec] | None = None) -> None:
        self.project = ProjectSnapshot(
            id=project_id,
            code="BB-2026-0001",
            name="智慧园区一期",
            status="draft",
            amount="1250000.00",
            owner_id=owner_id,
            department_id="sales",
            region="east",
            business_line="iot",
            form_key="standard",
            customer_name="华东制造有限公司",
        )
        self.steps = steps or []
        self.fail_first: set[str] = set()
        self.submit_error: ApplicationError | None = None
        self.calls: Counter[str] = Counter()
        self.status_history: list[tuple[str, str]] = []
        # (actor, comment) of each status change, in order.
        self.status_notes: list[tuple[str, str]] = []
        self.events: dict[str, ReportEventInput] = {}
        # Events the fake services published through their outboxes (patch "service-events"), by
        # id; they land in ``events`` too, as the relay would deliver them to reporting.
        self.published: dict[str, ReportEventInput] = {}
        # The registry publishes project.created when it creates the project (before any workflow).
        self._publish(f"project-{project_id}:project.created:0", "project.created", actor=owner_id,
                      project=replace(self.project), at=datetime(2026, 1, 1, tzinfo=UTC))
        self.sent: dict[str, SendInput] = {}
        # Approval requests the approval fake published with an opening (its notice outbox), by
        # request id; they land in ``sent`` too.
        self.notices: dict[str, SendInput] = {}
        self.tasks: dict[str, Task] = {}
        self.step_status: dict[int, str] = {}
        self.decisions: dict[str, DecisionOutcome] = {}
        self._done: dict[str, Any] = {}
        # Approval fake state (v2): openings per step, when each step opened, instance status.
        self.opens: Counter[int] = Counter()
        self.opened_at: dict[int, datetime] = {}
        self.instance_status = "pending"
        self.returned_step = -1
        self.actions: list[tuple[str, str, int]] = []
        self.fired: list[tuple[int, int, str, bool]] = []
        # When set, SLA timers are computed as if each step opened at this instant (e.g. the eve
        # of the National Day holiday) and then shifted to the step's real (skipped) opening time.
        self.calendar_origin: datetime | None = None
        self._current_ids: dict[int, set[str]] = {}
        # The approval instance in use; a resubmission re-planned by the service starts another
        # (``replan``: the new chain's steps and the reason the service gives).
        self.instance_id = "inst-1"
        self.replan: tuple[list[StepSpec], str] | None = None
        self.opened_instances: list[str] = []
        # OpenStep request ids RecordDecision opened the next step under (``open_next``).
        self.opened_in_decision: list[str] = []
        # OpenStep request ids PlanChain opened the first step under (``open_first``).
        self.opened_in_plan: list[str] = []
        # OpenStep request ids ResumeInstance opened the step it continues at under (``open_first``).
        self.opened_in_resume: list[str] = []
        # When set, PlanChain waits for it (a withdrawal arriving while the chain is planned).
        self.plan_gate: asyncio.Event | None = None
        # Delivery starts of an approved project, by request id.
        self.deliveries: dict[str, StartDeliveryInput] = {}

    # ---- the services' reporting outboxes ----

    def _publish(self, event_id: str, event_type: str, *, actor: str = "", project: ProjectSnapshot | None = None,
                 payload: dict[str, Any] | None = None, at: datetime | None = None) -> None:
        when = at or activity.info().current_attempt_scheduled_time.astimezone(UTC)
        event = ReportEventInput(event_id=event_id, type=event_type, project_id=self.project.id, at=when.isoformat(),
                                 actor_id=actor, payload=payload or {}, project=project)
        typed_event(event)  # what reporting will read: every event must fit its kind's message
        self.published.setdefault(event_id, event)
        self.events.setdefault(event_id, event)

    def _publish_decided(self, scope: str, key: str, instance_id: str, step_index: int, step: str, user: str,
                         action: str, channel: str, on_behalf_of: str = "") -> None:
        if not scope:
            return
        at = activity.info().current_attempt_scheduled_time.astimezone(UTC)
        payload: dict[str, Any] = {"instance_id": instance_id, "step_index": step_index, "step": step,
                                   "user_id": user, "action": action, "at": at.isoformat(), "channel": channel}
        if on_behalf_of:
            payload["on_behalf_of"] = on_behalf_of
        self._publish(f"{scope}:approval.decided:{instance_id}:{step_index}:{key}", "approval.decided", actor=user,
                      payload=payload, at=at)

    # ---- helpers for tests ----

    def activities(self) -> list[Any]:
        return [
            self.get_project,
            self.submit_project,
            self.set_project_status,
            self.plan_chain,
            self.open_step,
            self.record_decision,
            self.fire_timer,
            self.resume,
            self.cancel,
            self.reassign,
            self.record_action,
            self.send,
            self.ingest_event,
            self.start_delivery,
            self.finish,
        ]

    def task_of(self, step_index: int, approver: str) -> str:
        """The task of the step's latest opening (the first opening keeps the short id)."""
        n = self.opens[step_index]
        return f"t{step_index}-{approver}" + (f"-{n}" if n > 1 else "")

    def event_types(self, prefix: str = "project.") -> list[str]:
        """Types of the reporting events sent, of one family (``project.`` by default;
        ``approval.`` for the approval analytics events, "" for all)."""
        return [e.type for e in self.events.values() if e.type.startswith(prefix)]

    def events_of(self, event_type: str) -> list[ReportEventInput]:
        return [e for e in self.events.values() if e.type == event_type]

    def typed_events_of(self, event_type: str) -> list[reporting_pb.Event]:
        """The events of a type as the reporting activity sends them."""
        return [typed_event(e) for e in self.events_of(event_type)]

    def sent_kinds(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(s.kind, tuple(s.recipient_ids)) for s in self.sent.values()]

    def _enter(self, name: str) -> None:
        self.calls[name] += 1

    def _maybe_fail(self, name: str) -> None:
        if name in self.fail_first and activity.info().attempt == 1:
            raise ApplicationError("UNAVAILABLE: connection reset", type="rpc_unavailable")

    # ---- registry ----

    @activity.defn(name=REGISTRY_GET_PROJECT)
    async def get_project(self, inp: GetProjectInput) -> ProjectSnapshot:
        self._enter(REGISTRY_GET_PROJECT)
        if inp.project_id != self.project.id:
            raise refuse(ERR_NOT_FOUND, "项目不存在")
        return replace(self.project)

    @activity.defn(name=REGISTRY_SUBMIT_PROJECT)
    async def submit_project(self, inp: SubmitProjectInput) -> ProjectSnapshot:
        self._enter(REGISTRY_SUBMIT_PROJECT)
        if inp.request_id not in self._done:
            if self.submit_error is not None:
                raise self.submit_error
            if inp.actor_id != self.project.owner_id and not inp.actor_is_admin:
                raise refuse(ERR_FORBIDDEN, "只有负责人可以提交" if inp.locale == "zh" else "only the owner may submit")
            if self.project.status not in ("draft", "returned"):
                raise refuse(ERR_CONFLICT, "项目状态不允许提交")
            self.project.status = "pending_approval"
            self.status_history.append(("pending_approval", "submitted"))
            self._done[inp.request_id] = replace(self.project)
            if inp.report_event_id:
                self._publish(inp.report_event_id, "project.submitted", actor=self.project.owner_id,
                              project=replace(self.project))
        self._maybe_fail(REGISTRY_SUBMIT_PROJECT)
        return self._done[inp.request_id]

    @activity.defn(name=REGISTRY_SET_PROJECT_STATUS)
    async def set_project_status(self, inp: SetProjectStatusInput) -> ProjectSnapshot:
        self._enter(REGISTRY_SET_PROJECT_STATUS)
        if inp.request_id not in self._done:
            self.project.status = inp.status
            self.status_history.append((inp.status, inp.event))
            self.status_notes.append((inp.actor_id, inp.comment))
            self._done[inp.request_id] = replace(self.project)
            if inp.report_event_id:
                kind = {"active": "approved"}.get(inp.status, inp.status)
                self._publish(inp.report_event_id, f"project.{kind}", actor=inp.actor_id, project=replace(self.project))
        self._maybe_fail(REGISTRY_SET_PROJECT_STATUS)
        return self._done[inp.request_id]

    @activity.defn(name=LIFECYCLE_START_DELIVERY)
    async def start_delivery(self, inp: StartDeliveryInput) -> StartDeliveryResult:
        self._enter(LIFECYCLE_START_DELIVERY)
        self.deliveries.setdefault(inp.request_id, inp)
        self._maybe_fail(LIFECYCLE_START_DELIVERY)
        return StartDeliveryResult(protection_state="none")

    @activity.defn(name=LIFECYCLE_FINISH)
    async def finish(self, inp: FinishInput) -> ProjectSnapshot:
        """Like workflows/activities/finish.py: the fakes' own steps, in the same order."""
        self._enter(LIFECYCLE_FINISH)
        project = await self.set_project_status(inp.status)
        if inp.delivery is not None:
            await self.start_delivery(inp.delivery)
        await self.send(inp.notice)
        return project

    # ---- approval ----

    @activity.defn(name=APPROVAL_PLAN_CHAIN)
    async def plan_chain(self, inp: PlanChainInput) -> ChainPlan:
        self._enter(APPROVAL_PLAN_CHAIN)
        assert inp.project.status == "pending_approval"
        if self.plan_gate is not None:
            await self.plan_gate.wait()
        first = inp.open_first
        first_opened = None
        if first is not None and self.steps and first.step_index == 0 and first.instance_id in ("", self.instance_id):
            # Like the service: the first step opened in the planning, for the instance planned.
            self.opened_in_plan.append(first.request_id)
            self.opened_instances.append(self.instance_id)
            first_opened = self._open(replace(first, instance_id=self.instance_id))
        return ChainPlan(
            instance_id=self.instance_id,
            policy_key="standard",
            policy_version=1,
            steps=[
                PlannedStep(
                    index=i, name=s.name, mode=s.mode, approvers=list(s.approvers), sla_seconds=s.sla_seconds
                )
                for i, s in enumerate(self.steps)
            ],
            first_opened=first_opened,
        )

    def _timers(self, index: int) -> tuple[str, list[TimerRef]]:
        spec = self.steps[index]
        opened = self.opened_at[index]
        origin = self.calendar_origin or opened
        due, timers = domain.step_timers(
            opened_at=origin, sla=spec.sla, on_timeout=spec.on_timeout, escalate_to=spec.escalate_to,
            remind_at=spec.remind_at, escalation=spec.escalation,
        )

        def shift(at: datetime) -> str:
            return (opened + (at - origin)).isoformat()

        return (shift(due) if due else ""), [
            TimerRef(index=t.index, action=t.action, at=shift(t.at), level=t.level, to=list(t.to))
            for t in timers
        ]

    def _new_task(self, index: int, user: str, kind: str = "normal", status: str = "pending") -> Task:
        n = self.opens[index]
        task_id = f"t{index}-{user}" + (f"-{n}" if n > 1 else "")
        if task_id in self.tasks:
            task_id += f"-{kind}-{len(self.tasks)}"
        task = Task(task_id, index, user, status=status, kind=kind)
        self.tasks[task_id] = task
        self._current_ids.setdefault(index, set()).add(task_id)
        return task

    def _pending(self, index: int) -> list[str]:
        return sorted({t.approver_id for t in self._open_tasks(index) if t.status == "pending"})

    def _open_tasks(self, index: int) -> list[Task]:
        return [self.tasks[i] for i in sorted(self._current_ids.get(index, set()))]

    def _ref(self, t: Task) -> TaskRef:
        return TaskRef(id=t.id, approver_id=t.approver_id, step_index=t.step_index, status=t.status)

    @activity.defn(name=APPROVAL_OPEN_STEP)
    async def open_step(self, inp: OpenStepInput) -> OpenedStep:
        self._enter(APPROVAL_OPEN_STEP)
        self.opened_instances.append(inp.instance_id)
        return self._open(inp)

    def _open(self, inp: OpenStepInput) -> OpenedStep:
        """OpenStep, and RecordDecision opening the next step (``open_next``) like the service:
        one opening per request id."""
        if inp.request_id in self._done:
            return self._done[inp.request_id]  # type: ignore[no-any-return]
        spec = self.steps[inp.step_index]
        if self.step_status.get(inp.step_index) == "pending":
            # Opened before (a continued run asks again): the step as it is now.
            due, timers = self._timers(inp.step_index)
            tasks = [self._ref(t) for t in self._open_tasks(inp.step_index)]
            out = OpenedStep(index=inp.step_index, name=spec.name, status="pending", approvers=spec.approvers,
                                 tasks=tasks, timers=timers, due_at=due)
            self._done[inp.request_id] = out
            return out
        if spec.auto:
            self.step_status[inp.step_index] = "approved"
            self._publish_decided(inp.report_scope, f"auto:{inp.report_key}", inp.instance_id, inp.step_index,
                                  spec.name, spec.approvers[0] if spec.approvers else "", "approve", "auto")
            self._done[inp.request_id] = OpenedStep(
                index=inp.step_index, name=spec.name, status="approved", approvers=spec.approvers, auto_approved=True
            )
            return self._done[inp.request_id]  # type: ignore[no-any-return]
        self.opens[inp.step_index] += 1
        self._current_ids[inp.step_index] = set()
        self.opened_at[inp.step_index] = activity.info().current_attempt_scheduled_time.astimezone(UTC)
        first = spec.approvers[:1] if spec.mode == "sequential" else spec.approvers
        tasks = [self._ref(self._new_task(inp.step_index, user)) for user in first]
        due, timers = self._timers(inp.step_index)
        if spec.sla_seconds and not due:
            due = "2026-12-01T08:00:00+00:00"
        for t in tasks:
            t.due_at = due
        self.step_status[inp.step_index] = "pending"
        out = OpenedStep(
            index=inp.step_index, name=spec.name, status="pending", approvers=spec.approvers, tasks=tasks,
            timers=timers, due_at=due, cc=list(spec.cc), opened_at=self.opened_at[inp.step_index].isoformat(),
        )
        out.notices_published = self._publish_notices(inp, spec.name, tasks)
        self._done[inp.request_id] = out
        if inp.report_scope:
            self._publish(
                f"{inp.report_scope}:approval.step_opened:{inp.instance_id}:{inp.step_index}:{inp.report_key}",
                "approval.step_opened",
                payload={"instance_id": inp.instance_id, "step_index": inp.step_index, "step": spec.name,
                         "approvers": sorted(set(spec.approvers)), "opened_at": out.opened_at},
            )
        return out

    def _publish_notices(self, inp: OpenStepInput, step_name: str, tasks: list[TaskRef]) -> bool:
        """The approval requests the service publishes with an opening (patch
        "notices-from-approval"); they land in ``sent`` as the worker's relay sends them."""
        if inp.notice is None or not tasks:
            return False
        n = inp.notice
        for t in tasks:
            request_id = f"{n.request_id_prefix}:{t.approver_id}:{t.id}"
            send = SendInput(request_id=request_id, recipient_ids=[t.approver_id], kind=n.kind, title="",
                             project_id=n.project_id, action_tasks={t.approver_id: t.id},
                             context={**n.context, "step": step_name or n.context.get("step", ""), "task_id": t.id})
            self.notices.setdefault(request_id, send)
            self.sent.setdefault(request_id, send)
        return True

    def _outcome(self, index: int) -> str:
        spec = self.steps[index]
        return domain.step_outcome(
            spec.mode, [domain.TaskState(t.status, t.kind) for t in self._open_tasks(index)],
            total=len(spec.approvers) if spec.mode == "sequential" else None,
        )

    def _settle(self, index: int, outcome: str) -> None:
        if outcome in ("approved", "rejected"):
            for t in self._open_tasks(index):
                if t.status in ("pending", "waiting"):
                    t.status = "closed"
            self.step_status[index] = outcome

    @activity.defn(name=APPROVAL_RECORD_DECISION)
    async def record_decision(self, inp: RecordDecisionInput) -> DecisionOutcome:
        self._enter(APPROVAL_RECORD_DECISION)
        if inp.request_id not in self.decisions:
            task = self.tasks.get(inp.task_id)
            if task is None:
                raise refuse(ERR_NOT_FOUND, "审批任务不存在")
            if task.approver_id != inp.actor_id:
                raise refuse(
                    ERR_FORBIDDEN,
                    "您不是该任务的审批人" if inp.locale == "zh" else "you are not an approver of this task",
                )
            if task.status != "pending" or self.instance_status != "pending":
                raise refuse(ERR_CONFLICT, "该审批任务已处理" if inp.locale == "zh" else "task already decided")
            if inp.action not in domain.ACTIONS:
                raise refuse(ERR_VALIDATION, "操作无效", [{"field": "action", "message": "无效"}])
            index = task.step_index
            new: list[Task] = []
            return_to = -1
            outcome = "pending"
            if inp.action in ("approve", "reject"):
                task.status = "approved" if inp.action == "approve" else "rejected"
            elif inp.action == "return":
                task.status = "closed"
                outcome = "returned"
                for t in self._open_tasks(index):
                    if t.status == "pending":
                        t.status = "closed"
                if inp.to_step is None:
                    self.instance_status = "returned"
                    self.returned_step = index
                    self.step_status[index] = "returned"
                else:
                    return_to = inp.to_step
                    for i in range(inp.to_step, index + 1):
                        self.step_status[i] = "waiting"
            elif inp.action == "transfer":
                task.status = "closed"
                new.append(self._new_task(index, inp.to_user_id, kind=task.kind))
            else:
                new.append(self._new_task(index, inp.to_user_id))
            if outcome == "pending":
                outcome = self._outcome(index)
                spec = self.steps[index]
                if outcome == "pending" and spec.mode == "sequential" and not self._pending(index):
                    tasked = {t.approver_id for t in self._open_tasks(index) if t.status != "closed"}
                    nxt = next((u for u in spec.approvers if u not in tasked), None)
                    if nxt:
                        new.append(self._new_task(index, nxt))
                self._settle(index, outcome)
            self.actions.append((inp.action, inp.actor_id, index))
            nxt_open = inp.open_next
            next_opened = None
            if (nxt_open is not None and outcome == "approved" and nxt_open.instance_id == self.instance_id
                    and nxt_open.step_index == index + 1 < len(self.steps)):
                self.opened_in_decision.append(nxt_open.request_id)
                next_opened = self._open(nxt_open)
            self.decisions[inp.request_id] = DecisionOutcome(
                task_id=task.id, instance_id=self.instance_id, step_index=index, step_outcome=outcome,
                new_tasks=[self._ref(t) for t in new], return_to=return_to, step_name=self.steps[index].name,
                pending_approvers=self._pending(index), next_opened=next_opened,
            )
            self._publish_decided(inp.report_scope, inp.report_key, self.instance_id, index, self.steps[index].name,
                                  inp.actor_id, inp.action, inp.channel)
        self._maybe_fail(APPROVAL_RECORD_DECISION)
        return self.decisions[inp.request_id]

    @activity.defn(name=APPROVAL_FIRE_TIMER)
    async def fire_timer(self, inp: FireTimerInput) -> FireTimerResult:
        self._enter(APPROVAL_FIRE_TIMER)
        if inp.request_id in self._done:
            return self._done[inp.request_id]  # type: ignore[no-any-return]
        index = inp.step_index
        _, timers = self._timers(index)
        timer = timers[inp.timer_index]
        if self.step_status.get(index) != "pending" or self.instance_status != "pending":
            out = FireTimerResult(fired=False, action=timer.action, step_outcome=self.step_status.get(index, ""))
        else:
            new: list[Task] = []
            outcome = "pending"
            reminded: list[str] = []
            if timer.action == "remind":
                reminded = self._pending(index)
            elif timer.action == "escalate":
                for user in timer.to:
                    if user not in self._pending(index):
                        new.append(self._new_task(index, user, kind="escalated"))
            else:
                outcome = "approved" if timer.action == "approve" else "rejected"
                self._settle(index, outcome)
            out = FireTimerResult(
                fired=True, action=timer.action, step_outcome=outcome, new_tasks=[self._ref(t) for t in new],
                remind_user_ids=reminded, pending_approvers=self._pending(index),
            )
        self.fired.append((index, inp.timer_index, timer.action, out.fired))
        self._done[inp.request_id] = out
        if out.fired and timer.action != "remind":
            action = "escalate" if timer.action == "escalate" else f"timeout_{timer.action}"
            self._publish_decided(inp.report_scope, inp.report_key, inp.instance_id, index, self.steps[index].name,
                                  "system", action, "system")
        return out

    @activity.defn(name=APPROVAL_RESUME)
    async def resume(self, inp: ResumeApprovalInput) -> ResumedApproval:
        self._enter(APPROVAL_RESUME)
        if inp.request_id not in self._done:
            if self.instance_status != "returned":
                raise refuse(ERR_CONFLICT, "审批未处于退回状态")
            self.instance_status = "pending"
            if self.replan is not None:
                self.steps, reason = self.replan
                self.instance_id, self.step_status, self.returned_step = "inst-2", {}, -1
                out = ResumedApproval(instance_id=self.instance_id, resume_from=0, steps=self._planned(),
                                      replanned=reason)
            else:
                self.step_status[self.returned_step] = "waiting"
                out = ResumedApproval(instance_id=self.instance_id, resume_from=self.returned_step,
                                      steps=self._planned())
            first = inp.open_first
            if (first is not None and first.step_index == out.resume_from < len(self.steps)
                    and first.instance_id in ("", self.instance_id)):
                # Like the service: the step the chain continues at, opened in the same call.
                self.opened_in_resume.append(first.request_id)
                self.opened_instances.append(self.instance_id)
                out.first_opened = self._open(replace(first, instance_id=self.instance_id))
            self._done[inp.request_id] = out
        return self._done[inp.request_id]  # type: ignore[no-any-return]

    def _planned(self) -> list[PlannedStep]:
        return [
            PlannedStep(index=i, name=s.name, mode=s.mode, approvers=list(s.approvers), sla_seconds=s.sla_seconds)
            for i, s in enumerate(self.steps)
        ]

    @activity.defn(name=APPROVAL_CANCEL)
    async def cancel(self, inp: CancelApprovalInput) -> CancelApprovalResult:
        self._enter(APPROVAL_CANCEL)
        if inp.request_id not in self._done:
            if self.instance_status not in ("pending", "returned"):
                raise refuse(ERR_CONFLICT, "审批已结束")
            self.instance_status = "cancelled"
            for t in self.tasks.values():
                if t.status in ("pending", "waiting"):
                    t.status = "closed"
            self.actions.append((inp.action, inp.actor_id, -1))
            self._done[inp.request_id] = CancelApprovalResult(status="cancelled")
        return self._done[inp.request_id]  # type: ignore[no-any-return]

    @activity.defn(name=APPROVAL_REASSIGN)
    async def reassign(self, inp: ReassignStepInput) -> ReassignStepResult:
        self._enter(APPROVAL_REASSIGN)
        if inp.request_id not in self._done:
            moving = [t for t in self._open_tasks(inp.step_index)
                      if t.status == "pending" and (not inp.from_user_id or t.approver_id == inp.from_user_id)]
            for t in moving:
                t.status = "closed"
            new = self._new_task(inp.step_index, inp.to_user_id)
            self.actions.append(("reassign", inp.actor_id, inp.step_index))
            self._publish_decided(inp.report_scope, inp.report_key, inp.instance_id, inp.step_index,
                                  self.steps[inp.step_index].name, inp.actor_id, "reassign", "api")
            self._done[inp.request_id] = ReassignStepResult(
                new_tasks=[self._ref(new)], pending_approvers=self._pending(inp.step_index)
            )
        return self._done[inp.request_id]  # type: ignore[no-any-return]

    @activity.defn(name=APPROVAL_RECORD_ACTION)
    async def record_action(self, inp: RecordActionInput) -> RecordActionResult:
        self._enter(APPROVAL_RECORD_ACTION)
        if inp.request_id not in self._done:
            self.actions.append((inp.action, inp.actor_id, inp.step_index))
            self._done[inp.request_id] = RecordActionResult(
                step_index=inp.step_index, cc_user_ids=list(inp.user_ids) if inp.action == "cc" else []
            )
        return self._done[inp.request_id]  # type: ignore[no-any-return]

    # ---- notify / reporting ----

    @activity.defn(name=NOTIFY_SEND)
    async def send(self, inp: SendInput) -> SendResult:
        self._enter(NOTIFY_SEND)
        self.sent.setdefault(inp.request_id, inp)
        self._maybe_fail(NOTIFY_SEND)
        return SendResult(notification_ids=[f"n-{inp.request_id}-{r}" for r in inp.recipient_ids])

    @activity.defn(name=REPORTING_INGEST_EVENT)
    async def ingest_event(self, inp: ReportEventInput) -> ReportEventResult:
        self._enter(REPORTING_INGEST_EVENT)
        typed_event(inp)  # what the real activity sends: every event must fit its kind's message
        applied = inp.event_id not in self.events
        self.events.setdefault(inp.event_id, inp)
        self._maybe_fail(REPORTING_INGEST_EVENT)
        return ReportEventResult(applied=applied)
