"""In-memory stand-ins for the four services, registered under the real activity names.

Each fake records its calls and is idempotent on ``request_id`` like the real services. A fake
listed in ``fail_first`` applies the first attempt of a call and then fails it with a retryable
error (as if the response were lost to an UNAVAILABLE), so tests can check a retried activity
takes effect once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows import activity_types as act
from workflows.payloads import ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_VALIDATION


def refuse(err_type: str, message: str, violations: list[dict[str, str]] | None = None) -> ApplicationError:
    return ApplicationError(message, violations or [], type=err_type, non_retryable=True)


@dataclass
class StepSpec:
    name: str
    approvers: list[str]
    mode: str = "any"
    auto: bool = False
    sla_seconds: int = 0


@dataclass
class Task:
    id: str
    step_index: int
    approver_id: str
    status: str = "pending"


class Fakes:
    def __init__(self, *, project_id: str = "p1", owner_id: str = "owner", steps: list[StepSpec] | None = None) -> None:
        self.project = act.ProjectSnapshot(
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
        self.events: dict[str, act.ReportEventInput] = {}
        self.sent: dict[str, act.SendInput] = {}
        self.tasks: dict[str, Task] = {}
        self.step_status: dict[int, str] = {}
        self.decisions: dict[str, act.DecisionOutcome] = {}
        self._done: dict[str, Any] = {}

    # ---- helpers for tests ----

    def activities(self) -> list[Any]:
        return [
            self.get_project,
            self.submit_project,
            self.set_project_status,
            self.plan_chain,
            self.open_step,
            self.record_decision,
            self.send,
            self.ingest_event,
        ]

    def task_of(self, step_index: int, approver: str) -> str:
        return f"t{step_index}-{approver}"

    def event_types(self) -> list[str]:
        return [e.type for e in self.events.values()]

    def sent_kinds(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(s.kind, tuple(s.recipient_ids)) for s in self.sent.values()]

    def _enter(self, name: str) -> None:
        self.calls[name] += 1

    def _maybe_fail(self, name: str) -> None:
        if name in self.fail_first and activity.info().attempt == 1:
            raise ApplicationError("UNAVAILABLE: connection reset", type="rpc_unavailable")

    # ---- registry ----

    @activity.defn(name=act.REGISTRY_GET_PROJECT)
    async def get_project(self, inp: act.GetProjectInput) -> act.ProjectSnapshot:
        self._enter(act.REGISTRY_GET_PROJECT)
        if inp.project_id != self.project.id:
            raise refuse(ERR_NOT_FOUND, "项目不存在")
        return replace(self.project)

    @activity.defn(name=act.REGISTRY_SUBMIT_PROJECT)
    async def submit_project(self, inp: act.SubmitProjectInput) -> act.ProjectSnapshot:
        self._enter(act.REGISTRY_SUBMIT_PROJECT)
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
        self._maybe_fail(act.REGISTRY_SUBMIT_PROJECT)
        return self._done[inp.request_id]

    @activity.defn(name=act.REGISTRY_SET_PROJECT_STATUS)
    async def set_project_status(self, inp: act.SetProjectStatusInput) -> act.ProjectSnapshot:
        self._enter(act.REGISTRY_SET_PROJECT_STATUS)
        if inp.request_id not in self._done:
            self.project.status = inp.status
            self.status_history.append((inp.status, inp.event))
            self._done[inp.request_id] = replace(self.project)
        self._maybe_fail(act.REGISTRY_SET_PROJECT_STATUS)
        return self._done[inp.request_id]

    # ---- approval ----

    @activity.defn(name=act.APPROVAL_PLAN_CHAIN)
    async def plan_chain(self, inp: act.PlanChainInput) -> act.ChainPlan:
        self._enter(act.APPROVAL_PLAN_CHAIN)
        assert inp.project.status == "pending_approval"
        return act.ChainPlan(
            instance_id="inst-1",
            policy_key="standard" if self.steps else "",
            policy_version=1,
            steps=[
                act.PlannedStep(
                    index=i, name=s.name, mode=s.mode, approvers=list(s.approvers), sla_seconds=s.sla_seconds
                )
                for i, s in enumerate(self.steps)
            ],
        )

    @activity.defn(name=act.APPROVAL_OPEN_STEP)
    async def open_step(self, inp: act.OpenStepInput) -> act.OpenedStep:
        self._enter(act.APPROVAL_OPEN_STEP)
        spec = self.steps[inp.step_index]
        if spec.auto:
            self.step_status[inp.step_index] = "approved"
            return act.OpenedStep(
                index=inp.step_index, name=spec.name, status="approved", approvers=spec.approvers, auto_approved=True
            )
        due = "2026-12-01T08:00:00+00:00" if spec.sla_seconds else ""
        tasks = []
        for user in spec.approvers:
            task = self.tasks.setdefault(
                self.task_of(inp.step_index, user), Task(self.task_of(inp.step_index, user), inp.step_index, user)
            )
            tasks.append(
                act.TaskRef(id=task.id, approver_id=user, step_index=inp.step_index, status=task.status, due_at=due)
            )
        self.step_status[inp.step_index] = "pending"
        return act.OpenedStep(
            index=inp.step_index, name=spec.name, status="pending", approvers=spec.approvers, tasks=tasks
        )

    @activity.defn(name=act.APPROVAL_RECORD_DECISION)
    async def record_decision(self, inp: act.RecordDecisionInput) -> act.DecisionOutcome:
        self._enter(act.APPROVAL_RECORD_DECISION)
        if inp.request_id not in self.decisions:
            task = self.tasks.get(inp.task_id)
            if task is None:
                raise refuse(ERR_NOT_FOUND, "审批任务不存在")
            if task.approver_id != inp.actor_id:
                raise refuse(
                    ERR_FORBIDDEN,
                    "您不是该任务的审批人" if inp.locale == "zh" else "you are not an approver of this task",
                )
            if task.status != "pending":
                raise refuse(ERR_CONFLICT, "该审批任务已处理" if inp.locale == "zh" else "task already decided")
            if inp.action not in ("approve", "reject"):
                raise refuse(ERR_VALIDATION, "操作无效", [{"field": "action", "message": "无效"}])
            task.status = "approved" if inp.action == "approve" else "rejected"
            siblings = [t for t in self.tasks.values() if t.step_index == task.step_index and t is not task]
            mode = self.steps[task.step_index].mode
            if task.status == "rejected":
                outcome = "rejected"
            elif mode == "any" or all(t.status == "approved" for t in siblings):
                outcome = "approved"
            else:
                outcome = "pending"
            if outcome != "pending":
                for t in siblings:
                    if t.status == "pending":
                        t.status = "closed"
                self.step_status[task.step_index] = outcome
            self.decisions[inp.request_id] = act.DecisionOutcome(
                task_id=task.id, instance_id="inst-1", step_index=task.step_index, step_outcome=outcome
            )
        self._maybe_fail(act.APPROVAL_RECORD_DECISION)
        return self.decisions[inp.request_id]

    # ---- notify / reporting ----

    @activity.defn(name=act.NOTIFY_SEND)
    async def send(self, inp: act.SendInput) -> act.SendResult:
        self._enter(act.NOTIFY_SEND)
        self.sent.setdefault(inp.request_id, inp)
        self._maybe_fail(act.NOTIFY_SEND)
        return act.SendResult(notification_ids=[f"n-{inp.request_id}-{r}" for r in inp.recipient_ids])

    @activity.defn(name=act.REPORTING_INGEST_EVENT)
    async def ingest_event(self, inp: act.ReportEventInput) -> act.ReportEventResult:
        self._enter(act.REPORTING_INGEST_EVENT)
        applied = inp.event_id not in self.events
        self.events.setdefault(inp.event_id, inp)
        self._maybe_fail(act.REPORTING_INGEST_EVENT)
        return act.ReportEventResult(applied=applied)
