"""Activity names and their input/output dataclasses: the only thing the workflow knows about
activities. No grpc/protobuf imports, so the workflow sandbox can import this module freely, and
fake activities in tests register under the same names.

Mutating calls carry a ``request_id`` derived from the workflow id and the step, so a retried
activity (or a replayed workflow) never applies the same change twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# ---- activity names ("<service>.<Rpc>") ----
REGISTRY_GET_PROJECT = "registry.GetProject"
REGISTRY_SUBMIT_PROJECT = "registry.SubmitProject"
REGISTRY_SET_PROJECT_STATUS = "registry.SetProjectStatus"
APPROVAL_PLAN_CHAIN = "approval.PlanChain"
APPROVAL_OPEN_STEP = "approval.OpenStep"
APPROVAL_RECORD_DECISION = "approval.RecordDecision"
NOTIFY_SEND = "notify.Send"
REPORTING_INGEST_EVENT = "reporting.IngestEvent"


# ---- registry ----


@dataclass
class ProjectSnapshot:
    """What the workflow keeps of a project (also the payload of reporting events)."""

    id: str
    code: str = ""
    name: str = ""
    # draft | pending_approval | active | closed | returned | rejected | cancelled
    status: str = ""
    # Decimal string, exact.
    amount: str = "0"
    owner_id: str = ""
    department_id: str = ""
    region: str = ""
    business_line: str = ""
    form_key: str = ""
    customer_name: str = ""
    # Form field values as plain JSON (for approval rules).
    fields: dict[str, Any] = field(default_factory=dict)
    conflict_count: int = 0

    def event_payload(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "amount": self.amount,
            "owner_id": self.owner_id,
            "department_id": self.department_id,
            "region": self.region,
            "business_line": self.business_line,
        }


@dataclass
class GetProjectInput:
    project_id: str


@dataclass
class SubmitProjectInput:
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool = False
    locale: str = "zh"


@dataclass
class SetProjectStatusInput:
    request_id: str
    project_id: str
    status: str
    actor_id: str = ""
    event: str = ""
    comment: str = ""


# ---- approval ----


@dataclass
class PlannedStep:
    index: int
    name: str
    mode: str = "any"
    approvers: list[str] = field(default_factory=list)
    sla_seconds: int = 0
    sla: str = ""
    on_timeout: str = ""
    escalate_to: list[str] = field(default_factory=list)


@dataclass
class PlanChainInput:
    request_id: str
    project: ProjectSnapshot
    submitter_id: str


@dataclass
class ChainPlan:
    instance_id: str
    policy_key: str = ""
    policy_version: int = 0
    steps: list[PlannedStep] = field(default_factory=list)


@dataclass
class OpenStepInput:
    request_id: str
    instance_id: str
    step_index: int


@dataclass
class TaskRef:
    id: str
    approver_id: str
    step_index: int
    # pending | approved | rejected | closed
    status: str = "pending"
    # ISO 8601 with zone, empty when the step has no SLA.
    due_at: str = ""


@dataclass
class OpenedStep:
    index: int
    name: str = ""
    # waiting | pending | approved | rejected | returned | skipped
    status: str = "pending"
    approvers: list[str] = field(default_factory=list)
    tasks: list[TaskRef] = field(default_factory=list)
    auto_approved: bool = False


@dataclass
class RecordDecisionInput:
    request_id: str
    task_id: str
    actor_id: str
    action: str
    comment: str = ""
    channel: str = "api"
    locale: str = "zh"


@dataclass
class DecisionOutcome:
    task_id: str
    instance_id: str
    step_index: int
    # pending | approved | rejected: the step's outcome after this decision.
    step_outcome: str


# ---- notify ----


@dataclass
class SendInput:
    request_id: str
    recipient_ids: list[str]
    kind: str
    title: str
    body: str = ""
    project_id: str = ""
    action_urls: dict[str, str] = field(default_factory=dict)


@dataclass
class SendResult:
    notification_ids: list[str] = field(default_factory=list)


# ---- reporting ----


@dataclass
class ReportEventInput:
    event_id: str
    type: str
    project_id: str
    # ISO 8601 with zone (workflow time, so replays send the same event).
    at: str
    actor_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportEventResult:
    applied: bool
