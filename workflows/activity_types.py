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
REGISTRY_START_PROTECTION = "registry.StartProtection"
REGISTRY_EXPIRE_PROTECTION = "registry.ExpireProtection"
APPROVAL_PLAN_CHAIN = "approval.PlanChain"
APPROVAL_OPEN_STEP = "approval.OpenStep"
APPROVAL_RECORD_DECISION = "approval.RecordDecision"
APPROVAL_FIRE_TIMER = "approval.FireTimer"
APPROVAL_RESUME = "approval.ResumeInstance"
APPROVAL_CANCEL = "approval.CancelInstance"
APPROVAL_REASSIGN = "approval.ReassignStep"
APPROVAL_RECORD_ACTION = "approval.RecordAction"
NOTIFY_SEND = "notify.Send"
NOTIFY_DELIVER = "notify.Deliver"
NOTIFY_DELIVER_DIGEST = "notify.DeliverDigest"
NOTIFY_DEAD_LETTER = "notify.DeadLetter"
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
    # ISO date the registration gives for the project's start ("" = none): anchors its plan template.
    start_date: str = ""
    # Form field values as plain JSON (for approval rules).
    fields: dict[str, Any] = field(default_factory=dict)
    conflict_count: int = 0
    # [{"project_id", "reason"}]: live registrations this one collides with (for approval rules).
    conflicts: list[dict[str, str]] = field(default_factory=list)

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
            "form_key": self.form_key,
            "conflict_count": self.conflict_count,
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


@dataclass
class ProtectionCheckInput:
    """StartProtection / ExpireProtection: ``at`` is workflow time (ISO 8601 with zone)."""

    request_id: str
    project_id: str
    at: str


@dataclass
class PromotedRef:
    project_id: str
    status: str


@dataclass
class ProtectionStatus:
    project_id: str
    # none | holder | protected | lapsed | waitlisted | released
    state: str
    # ISO 8601 with zone, empty when not protected.
    until: str = ""
    remind_at: str = ""
    owner_id: str = ""
    code: str = ""
    name: str = ""
    position: int = 0
    # Waitlisted registrations that took over the customer when this one let go of it.
    promoted: list[PromotedRef] = field(default_factory=list)


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
class TimerRef:
    """A durable timer of an open step (computed by the approval service on the mainland
    calendar); the workflow sleeps until ``at`` and then fires it through ``approval.FireTimer``."""

    index: int
    # remind | escalate | approve | reject
    action: str
    # ISO 8601 with zone.
    at: str
    level: int = 0
    to: list[str] = field(default_factory=list)


@dataclass
class OpenedStep:
    index: int
    name: str = ""
    # waiting | pending | approved | rejected | returned | skipped
    status: str = "pending"
    approvers: list[str] = field(default_factory=list)
    tasks: list[TaskRef] = field(default_factory=list)
    auto_approved: bool = False
    timers: list[TimerRef] = field(default_factory=list)
    # ISO 8601 with zone, empty without an SLA.
    due_at: str = ""
    cc: list[str] = field(default_factory=list)
    opened_at: str = ""


@dataclass
class RecordDecisionInput:
    request_id: str
    task_id: str
    actor_id: str
    action: str
    comment: str = ""
    channel: str = "api"
    locale: str = "zh"
    to_user_id: str = ""
    position: str = ""
    # return: the earlier step to go back to; None = to the submitter.
    to_step: int | None = None
    attachments: list[dict[str, str]] = field(default_factory=list)
    link_id: str = ""


@dataclass
class DecisionOutcome:
    task_id: str
    instance_id: str
    step_index: int
    # pending | approved | rejected | returned: the step's outcome after this decision.
    step_outcome: str
    # Tasks that became pending (transfer, add_approver, next in a sequence): notify them.
    new_tasks: list[TaskRef] = field(default_factory=list)
    # returned: the step the chain goes back to, -1 = the submitter.
    return_to: int = -1
    on_behalf_of: str = ""
    step_name: str = ""
    pending_approvers: list[str] = field(default_factory=list)


@dataclass
class FireTimerInput:
    request_id: str
    instance_id: str
    step_index: int
    timer_index: int


@dataclass
class FireTimerResult:
    # False: the step was settled first, nothing changed.
    fired: bool
    action: str = ""
    step_outcome: str = "pending"
    new_tasks: list[TaskRef] = field(default_factory=list)
    remind_user_ids: list[str] = field(default_factory=list)
    pending_approvers: list[str] = field(default_factory=list)


@dataclass
class ResumeApprovalInput:
    request_id: str
    instance_id: str
    project: ProjectSnapshot
    actor_id: str


@dataclass
class ResumedApproval:
    instance_id: str
    resume_from: int
    steps: list[PlannedStep] = field(default_factory=list)
    # Added: why a new chain (a new instance_id) was planned; "" when the returned one resumes.
    replanned: str = ""


@dataclass
class CancelApprovalInput:
    request_id: str
    instance_id: str
    actor_id: str
    # withdraw | cancel
    action: str = "withdraw"
    comment: str = ""
    channel: str = "api"
    locale: str = "zh"


@dataclass
class CancelApprovalResult:
    status: str


@dataclass
class ReassignStepInput:
    request_id: str
    instance_id: str
    step_index: int
    to_user_id: str
    actor_id: str
    from_user_id: str = ""
    comment: str = ""
    locale: str = "zh"


@dataclass
class ReassignStepResult:
    new_tasks: list[TaskRef] = field(default_factory=list)
    pending_approvers: list[str] = field(default_factory=list)


@dataclass
class RecordActionInput:
    request_id: str
    instance_id: str
    actor_id: str
    # remind | comment | cc
    action: str
    step_index: int = -1
    comment: str = ""
    channel: str = "api"
    user_ids: list[str] = field(default_factory=list)
    locale: str = "zh"


@dataclass
class RecordActionResult:
    step_index: int = -1
    # cc: users newly copied.
    cc_user_ids: list[str] = field(default_factory=list)


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
    # recipient id → approval task id: notify mints a signed single-use action link per recipient.
    action_tasks: dict[str, str] = field(default_factory=dict)
    # Template context (code, name, customer, amount, step, comment, …), JSON values only.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class SendResult:
    notification_ids: list[str] = field(default_factory=list)


# The delivery worker's dispatcher (workflows/dispatcher.py) starts one NotificationDelivery
# workflow per batch of pending deliveries (id delivery-<batch>) on the delivery task queue; it
# retries each delivery as an activity with backoff and dead-letters it past the budget.
DELIVERY_WORKFLOW_TYPE = "NotificationDelivery"
# Non-retryable ApplicationError type of a permanent delivery failure (gRPC FAILED_PRECONDITION
# with reason delivery_permanent: bad configuration, a 4xx from the receiver, …).
DELIVERY_PERMANENT = "delivery_permanent"


def delivery_workflow_id(batch_id: str) -> str:
    return f"delivery-{batch_id}"


@dataclass
class DeliveryRef:
    delivery_id: str
    # ISO 8601 with zone; empty = now (quiet hours push it later).
    not_before: str = ""
    # Carried over by continue-as-new: "digest" = the next step is DeliverDigest (the robot was
    # rate limited), after ``digest_rounds`` rounds so far; "" = Deliver.
    step: str = ""
    digest_rounds: int = 0


@dataclass
class DeliveryBatchInput:
    batch_id: str
    deliveries: list[DeliveryRef] = field(default_factory=list)
    max_attempts: int = 6
    initial_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    # Continue-as-new: the outcomes of earlier runs of this batch.
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass
class DeliveryBatchResult:
    # delivery id → final outcome: delivered | skipped | dead
    outcomes: dict[str, str] = field(default_factory=dict)


@dataclass
class DeliverInput:
    delivery_id: str
    # DeadLetter: the last error seen.
    error: str = ""


@dataclass
class DeliverResult:
    # delivered | skipped | rate_limited | dead
    outcome: str = ""
    retry_after_seconds: float = 0.0
    status: str = ""


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


# ---- tasks / execution (issue 6) ----

TASKS_APPLY_TEMPLATE = "tasks.ApplyTemplate"
TASKS_SAVE_BASELINE = "tasks.SaveBaseline"
TASKS_EVALUATE_RULES = "tasks.EvaluateRules"
TASKS_RECORD_FIRE = "tasks.RecordFire"
REGISTRY_RESOLVE_RECIPIENTS = "registry.ResolveRecipients"

EXECUTION_WORKFLOW_TYPE = "ProjectExecution"
EXECUTION_SIGNAL_CHANGED = "tasks_changed"
EXECUTION_SIGNAL_STOP = "stop"
EXECUTION_QUERY_STATE = "state"


def execution_workflow_id(project_id: str) -> str:
    return f"execution-{project_id}"


@dataclass
class ExecutionInput:
    project_id: str
    owner_id: str
    name: str = ""
    business_line: str = ""
    # Decimal string (the registered amount: the budget unless one is set).
    amount: str = "0"
    # Apply the business line's template and save the approval baseline on start.
    apply_template: bool = True
    # ISO date the template's offsets count from: the project's registered start date; "" = the
    # day the workflow starts (Asia/Shanghai), as before.
    start: str = ""
    # Carried over continue-as-new: task events already reported.
    cursor: int = 0


@dataclass
class TasksChanged:
    reason: str = ""


@dataclass
class ExecutionState:
    project_id: str
    cursor: int = 0
    next_wake: str = ""
    fires: int = 0
    stopped: bool = False


@dataclass
class ApplyTemplateInput:
    request_id: str
    project_id: str
    business_line: str
    # ISO date; "" = today (Asia/Shanghai) in the service.
    start: str = ""
    owner_id: str = ""


@dataclass
class ApplyTemplateResult:
    created: int = 0
    template_version: int = 0


@dataclass
class SaveBaselineInput:
    request_id: str
    project_id: str
    name: str = ""


@dataclass
class SaveBaselineResult:
    number: int = 0
    tasks: int = 0


@dataclass
class RuleFireInfo:
    key: str
    rule_key: str
    project_id: str
    task_id: str = ""
    title: str = ""
    body: str = ""
    user_ids: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    # "<user_id>:<levels>"
    escalate: list[str] = field(default_factory=list)
    webhooks: list[str] = field(default_factory=list)
    # ISO 8601 (workflow time), set when recorded.
    fired_at: str = ""


@dataclass
class TaskEventInfo:
    seq: int
    kind: str
    task_id: str = ""
    at: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class EvaluateRulesInput:
    project_id: str
    # ISO 8601 with zone: workflow time, so a time-skipped or replayed workflow asks about its own now.
    now: str
    after_seq: int = 0
    owner_id: str = ""
    project_name: str = ""
    business_line: str = ""
    amount: str = "0"


@dataclass
class RuleEvaluation:
    fires: list[RuleFireInfo] = field(default_factory=list)
    # ISO 8601, "" when no timer is pending.
    next_wake: str = ""
    events: list[TaskEventInfo] = field(default_factory=list)
    last_seq: int = 0


@dataclass
class RecordFireResult:
    recorded: bool = False


@dataclass
class ResolveRecipientsInput:
    user_ids: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    escalate: list[str] = field(default_factory=list)


@dataclass
class ResolveRecipientsResult:
    user_ids: list[str] = field(default_factory=list)


# ---- execution: protection period and webhooks (issue 6) ----

REGISTRY_PROTECTION_INFO = "registry.ProtectionInfo"
WEBHOOK_DELIVER = "webhook.Deliver"
# Non-retryable ApplicationError type of a refused target (SSRF guard, bad URL, no secret, 4xx).
WEBHOOK_REFUSED = "WebhookRefused"


@dataclass
class ProtectionInfoInput:
    project_id: str


@dataclass
class ProtectionInfo:
    # none | holder | protected | lapsed | waitlisted | released ("" when the project is unknown)
    state: str = ""
    # ISO 8601 end of the period, "" when none.
    until: str = ""


@dataclass
class EvaluateRulesWithProtection(EvaluateRulesInput):
    """``EvaluateRulesInput`` plus the protection end the workflow read (ISO 8601, "" = none)."""

    protection_until: str = ""


@dataclass
class WebhookDeliveryInput:
    # The fire key: the Standard Webhooks ``webhook-id``, so receivers dedupe retries.
    fire_key: str
    rule_key: str
    url: str
    project_id: str
    # The JSON body's ``data`` (built by the workflow, identical on every attempt).
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class WebhookDeliveryResult:
    status: int = 0
    attempt: int = 0
