"""Activities on the approval service (``ApprovalActivities``): plan a chain, open steps, record
decisions and actions, fire SLA timers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.contracts.registry import ProjectSnapshot

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
APPROVAL_PLAN_CHAIN = "approval.PlanChain"
APPROVAL_OPEN_STEP = "approval.OpenStep"
APPROVAL_RECORD_DECISION = "approval.RecordDecision"
APPROVAL_FIRE_TIMER = "approval.FireTimer"
APPROVAL_RESUME = "approval.ResumeInstance"
APPROVAL_CANCEL = "approval.CancelInstance"
APPROVAL_REASSIGN = "approval.ReassignStep"
APPROVAL_RECORD_ACTION = "approval.RecordAction"


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
    # "" = the registration (policy of the project's form); "acceptance" with the request id as
    # subject and the acceptance policy key (see services/approval/domain/model.py PURPOSES).
    purpose: str = ""
    subject_id: str = ""
    policy_key: str = ""
    # Added (issue 15, patch "plan-opens-first"): open the chain's first step in the planning's
    # transaction (the OpenStep the workflow would make next, same request id; instance_id empty:
    # the service opens the instance it plans); ignored for a chain without steps.
    open_first: OpenStepInput | None = None


@dataclass
class ChainPlan:
    instance_id: str
    policy_key: str = ""
    policy_version: int = 0
    steps: list[PlannedStep] = field(default_factory=list)
    # The first step ``open_first`` opened (None: not asked, or ignored).
    first_opened: OpenedStep | None = None


@dataclass
class OpenStepInput:
    request_id: str
    instance_id: str
    step_index: int
    # Added (issue 15, patch "service-events"): the service publishes the reporting event of this
    # call through its outbox, with ids "<report_scope>:<type>:<instance>:<step>:<report_key>";
    # empty (older histories) = it publishes nothing and the workflow reports itself.
    report_scope: str = ""
    report_key: str = ""
    # Added (issue 15, patch "notices-from-approval"): the approval service publishes the
    # approval request of each task this opening creates (its notice outbox; the worker's relay
    # sends them); None (older histories, re-openings) = it publishes none, the workflow sends.
    notice: StepNotice | None = None


@dataclass
class StepNotice:
    """What the approval service sends each approver of an opened step: ``kind`` with the
    template ``context`` (it adds task_id and the step's name); each Send's request id is
    ``<request_id_prefix>:<approver>:<task id>``, the id the workflow's own Send used."""

    kind: str
    project_id: str
    request_id_prefix: str
    context: dict[str, Any] = field(default_factory=dict)


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
    # Added (issue 15): the service published the approval requests of this opening's tasks
    # (OpenStepInput.notice); False (older histories, re-openings) = the workflow sends them.
    notices_published: bool = False


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
    # Added (issue 15, patch "service-events"): the service publishes the reporting event of this
    # call through its outbox, with ids "<report_scope>:<type>:<instance>:<step>:<report_key>";
    # empty (older histories) = it publishes nothing and the workflow reports itself.
    report_scope: str = ""
    report_key: str = ""
    # Added (issue 15, patch "open-next-in-decision"): open the next step in the decision's
    # transaction when the decision settles its step approved (the OpenStep the workflow would
    # make next, same request id); ignored otherwise.
    open_next: OpenStepInput | None = None


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
    # The step ``open_next`` opened (None: not asked, or ignored).
    next_opened: OpenedStep | None = None


@dataclass
class FireTimerInput:
    request_id: str
    instance_id: str
    step_index: int
    timer_index: int
    # Added (issue 15, patch "service-events"): the service publishes the reporting event of this
    # call through its outbox, with ids "<report_scope>:<type>:<instance>:<step>:<report_key>";
    # empty (older histories) = it publishes nothing and the workflow reports itself.
    report_scope: str = ""
    report_key: str = ""


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
    # Added (issue 15, patch "resume-opens-step"): open the step the chain continues at in the
    # same transaction, as PlanChainInput.open_first; step_index is the step the workflow expects
    # (the returning step): the service ignores it when the chain continues elsewhere.
    open_first: OpenStepInput | None = None


@dataclass
class ResumedApproval:
    instance_id: str
    resume_from: int
    steps: list[PlannedStep] = field(default_factory=list)
    # Added: why a new chain (a new instance_id) was planned; "" when the returned one resumes.
    replanned: str = ""
    # The step ``open_first`` opened (None: not asked, or ignored).
    first_opened: OpenedStep | None = None


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
    # Added (issue 15, patch "service-events"): the service publishes the reporting event of this
    # call through its outbox, with ids "<report_scope>:<type>:<instance>:<step>:<report_key>";
    # empty (older histories) = it publishes nothing and the workflow reports itself.
    report_scope: str = ""
    report_key: str = ""


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
