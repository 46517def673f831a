"""Activities of the execution workflow (``TasksActivities``, ``RecipientActivities``,
``ProtectionInfoActivities``): plan template and baseline, rule evaluation and fires, rule
recipients and the project's protection period as the registry sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
TASKS_APPLY_TEMPLATE = "tasks.ApplyTemplate"
TASKS_SAVE_BASELINE = "tasks.SaveBaseline"
TASKS_EVALUATE_RULES = "tasks.EvaluateRules"
TASKS_RECORD_FIRE = "tasks.RecordFire"
# Issue 15 (patch plan-start-in-one): the template applied and the first rules turn in one activity.
TASKS_START_PLAN = "tasks.StartPlan"
REGISTRY_RESOLVE_RECIPIENTS = "registry.ResolveRecipients"
REGISTRY_PROTECTION_INFO = "registry.ProtectionInfo"


@dataclass
class ApplyTemplateInput:
    request_id: str
    project_id: str
    business_line: str
    # ISO date; "" = today (Asia/Shanghai) in the service.
    start: str = ""
    owner_id: str = ""
    # Also save the applied plan as a baseline of this name, in the same call ("" = no).
    baseline_name: str = ""


@dataclass
class ApplyTemplateResult:
    created: int = 0
    template_version: int = 0
    # The baseline saved in the same call (``baseline_name`` given), else 0.
    baseline_number: int = 0


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
class StartPlanInput:
    """ProjectExecution's start: the template (with its approval baseline), then the first turn of
    rule evaluation, which sees the tasks just created."""

    apply: ApplyTemplateInput
    evaluate: EvaluateRulesWithProtection


@dataclass
class StartPlanResult:
    applied: ApplyTemplateResult
    evaluation: RuleEvaluation
