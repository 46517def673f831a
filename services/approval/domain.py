"""Approval rules as plain Python: policy validation, CEL conditions, approver resolution,
SLA parsing, step outcomes and auto-approval. No grpc, no database; the org directory is reached
through the small ``OrgDirectory`` protocol (gRPC in ``org_client``, in-memory in tests)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import celpy
import structlog
from celpy.celparser import CELParseError

from baobei.core.errors import FieldViolation

log = structlog.get_logger(__name__)

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SLA_RE = re.compile(r"^(\d+)(s|m|h|d|wh)$")
APPROVER_TYPES = ("user", "role", "manager_of_submitter")
MODES = ("any", "all")
TIMEOUT_ACTIONS = ("escalate", "approve", "reject")
ACTIONS = ("approve", "reject")

# Step statuses (StepState.status) and task statuses.
STEP_WAITING, STEP_PENDING, STEP_APPROVED, STEP_REJECTED, STEP_SKIPPED = (
    "waiting",
    "pending",
    "approved",
    "rejected",
    "skipped",
)
INSTANCE_PENDING, INSTANCE_APPROVED, INSTANCE_REJECTED = "pending", "approved", "rejected"
TASK_PENDING, TASK_APPROVED, TASK_REJECTED, TASK_CLOSED = "pending", "approved", "rejected", "closed"
OUTCOME_PENDING, OUTCOME_APPROVED, OUTCOME_REJECTED = "pending", "approved", "rejected"
AUTO_APPROVE_COMMENT = "同一审批人连续审批，自动通过"

_SLA_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "wh": 3600}


# ---------------------------------------------------------------- org directory


@dataclass(frozen=True)
class OrgUser:
    id: str
    department_id: str = ""
    roles: tuple[str, ...] = ()


class OrgDirectory(Protocol):
    """Read-only view of the registry's org directory."""

    def get_user(self, user_id: str) -> OrgUser | None: ...

    def users_with_role(self, role: str) -> list[str]: ...

    def manager_chain(self, user_id: str) -> list[str]:
        """Managers of the user's department and its ancestors, nearest first."""
        ...


@dataclass
class InMemoryDirectory:
    """An ``OrgDirectory`` over plain dicts (tests, tools)."""

    users: dict[str, OrgUser] = field(default_factory=dict)
    # department id -> (parent id, manager id)
    departments: dict[str, tuple[str, str]] = field(default_factory=dict)

    def get_user(self, user_id: str) -> OrgUser | None:
        return self.users.get(user_id)

    def users_with_role(self, role: str) -> list[str]:
        return sorted(u.id for u in self.users.values() if role in u.roles)

    def manager_chain(self, user_id: str) -> list[str]:
        user = self.users.get(user_id)
        chain: list[str] = []
        dept, seen = (user.department_id if user else ""), set()
        while dept and dept in self.departments and dept not in seen:
            seen.add(dept)
            parent, manager = self.departments[dept]
            if manager:
                chain.append(manager)
            dept = parent
        return chain


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class ApproverSpec:
    type: str
    user_id: str = ""
    role: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "user_id": self.user_id, "role": self.role}

    @staticmethod
    def from_dict(data: Mapping[str, Any] | None) -> ApproverSpec | None:
        if not data or not data.get("type"):
            return None
        return ApproverSpec(str(data["type"]), str(data.get("user_id", "")), str(data.get("role", "")))


@dataclass(frozen=True)
class StepSpec:
    name: str
    approvers: ApproverSpec
    when: str = ""
    mode: str = "any"
    sla: str = ""
    escalate_to: ApproverSpec | None = None
    on_timeout: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "when": self.when,
            "approvers": self.approvers.as_dict(),
            "mode": self.mode,
            "sla": self.sla,
            "escalate_to": self.escalate_to.as_dict() if self.escalate_to else None,
            "on_timeout": self.on_timeout,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> StepSpec:
        return StepSpec(
            name=str(data.get("name", "")),
            when=str(data.get("when", "")),
            approvers=ApproverSpec.from_dict(data.get("approvers")) or ApproverSpec(""),
            mode=str(data.get("mode", "")) or "any",
            sla=str(data.get("sla", "")),
            escalate_to=ApproverSpec.from_dict(data.get("escalate_to")),
            on_timeout=str(data.get("on_timeout", "")),
        )


@dataclass(frozen=True)
class Policy:
    key: str
    form_key: str
    version: int
    steps: tuple[StepSpec, ...]


def normalise_steps(steps: Iterable[StepSpec]) -> list[StepSpec]:
    """Trim text and fill defaults (mode any) so equal definitions compare equal."""
    out = []
    for s in steps:
        out.append(
            StepSpec(
                name=s.name.strip(),
                when=s.when.strip(),
                approvers=_norm_approvers(s.approvers) or ApproverSpec(""),
                mode=s.mode.strip() or "any",
                sla=s.sla.strip(),
                escalate_to=_norm_approvers(s.escalate_to),
                on_timeout=s.on_timeout.strip(),
            )
        )
    return out


def _norm_approvers(a: ApproverSpec | None) -> ApproverSpec | None:
    if a is None or not a.type.strip():
        return None
    kind = a.type.strip()
    # Keep only the attribute the type uses, so stray values do not create new versions.
    return ApproverSpec(
        kind,
        a.user_id.strip() if kind == "user" else "",
        a.role.strip() if kind == "role" else "",
    )


def validate_policy(
    *, key: str, form_key: str, steps: Sequence[StepSpec], directory: OrgDirectory | None
) -> list[FieldViolation]:
    """All violations of a policy definition (``steps`` already normalised). With a directory,
    user approvers must exist in it."""
    v: list[FieldViolation] = []
    if not KEY_RE.match(key) or len(key) > 100:
        v.append(FieldViolation("key", "策略标识须为小写字母、数字、下划线或连字符，且以字母或数字开头",
                                "key must match [a-z0-9][a-z0-9_-]* (at most 100 characters)"))
    if not form_key.strip():
        v.append(FieldViolation("form_key", "表单标识为必填项", "form_key is required"))
    elif len(form_key.strip()) > 100:
        v.append(FieldViolation("form_key", "表单标识过长（最多 100 个字符）", "form_key is too long (at most 100)"))
    if not steps:
        v.append(FieldViolation("steps", "至少需要一个审批步骤", "at least one step is required"))
    for i, step in enumerate(steps):
        p = f"steps[{i}]"
        if not step.name:
            v.append(FieldViolation(f"{p}.name", "步骤名称为必填项", "step name is required"))
        elif len(step.name) > 200:
            v.append(FieldViolation(f"{p}.name", "步骤名称过长（最多 200 个字符）", "step name is too long"))
        if step.when:
            problem = when_problem(step.when)
            if problem:
                v.append(
                    FieldViolation(f"{p}.when", f"条件表达式无效：{problem}", f"invalid CEL expression: {problem}")
                )
        v.extend(_approver_violations(step.approvers, f"{p}.approvers", directory, required=True))
        if step.mode not in MODES:
            v.append(FieldViolation(f"{p}.mode", "审批方式须为 any 或 all", "mode must be any or all"))
        if step.sla and parse_sla(step.sla) is None:
            v.append(FieldViolation(f"{p}.sla", "时限格式无效（如 30s、24h、3d、8wh）",
                                    "invalid sla (e.g. 30s, 24h, 3d, 8wh)"))
        if step.on_timeout and step.on_timeout not in TIMEOUT_ACTIONS:
            v.append(FieldViolation(f"{p}.on_timeout", "超时处理须为 escalate、approve 或 reject",
                                    "on_timeout must be escalate, approve or reject"))
        if step.on_timeout == "escalate" and step.escalate_to is None:
            v.append(FieldViolation(f"{p}.escalate_to", "超时升级时须指定升级对象",
                                    "escalate_to is required when on_timeout is escalate"))
        if step.escalate_to is not None:
            v.extend(_approver_violations(step.escalate_to, f"{p}.escalate_to", directory, required=False))
    return v


def _approver_violations(
    a: ApproverSpec | None, path: str, directory: OrgDirectory | None, *, required: bool
) -> list[FieldViolation]:
    if a is None:
        if required:
            return [FieldViolation(f"{path}.type", "审批人类型为必填项", "approvers.type is required")]
        return []
    if a.type not in APPROVER_TYPES:
        return [FieldViolation(f"{path}.type", "审批人类型须为 user、role 或 manager_of_submitter",
                               "type must be user, role or manager_of_submitter")]
    if a.type == "user":
        if not a.user_id:
            return [FieldViolation(f"{path}.user_id", "用户为必填项", "user_id is required")]
        if directory is not None and directory.get_user(a.user_id) is None:
            return [FieldViolation(f"{path}.user_id", f"用户不存在：{a.user_id}", f"unknown user: {a.user_id}")]
    if a.type == "role" and not a.role:
        return [FieldViolation(f"{path}.role", "角色为必填项", "role is required")]
    return []


# ---------------------------------------------------------------- SLA


def parse_sla(text: str) -> int | None:
    """Seconds of an SLA like ``30s``, ``15m``, ``24h``, ``3d`` or ``8wh``; None when invalid.
    Working hours (``wh``) count as plain hours for now (no working-day calendar yet)."""
    m = SLA_RE.match(text.strip())
    if not m:
        return None
    return int(m.group(1)) * _SLA_UNIT_SECONDS[m.group(2)]


# ---------------------------------------------------------------- CEL

_env_lock = threading.Lock()
_env: celpy.Environment | None = None


def _environment() -> celpy.Environment:
    global _env
    if _env is None:
        _env = celpy.Environment()
    return _env


@functools.lru_cache(maxsize=512)
def _compiled(expr: str) -> Any:
    with _env_lock:
        return _environment().compile(expr)


def _sample_activation() -> dict[str, Any]:
    return activation(
        ProjectFacts(project_id="", form_key="", name="", amount=Decimal(0)),
        OrgUser(id=""),
    )


def when_problem(expr: str) -> str:
    """Why a CEL condition is unusable ("" if fine): a parse error, or a reference to a
    variable other than ``project`` and ``submitter``."""
    try:
        ast = _compiled(expr)
    except CELParseError as err:
        return " ".join(str(err).split())
    except Exception as err:  # noqa: BLE001 - any compiler failure is a bad expression
        return " ".join(str(err).split()) or type(err).__name__
    try:
        _environment().program(ast).evaluate(_sample_activation())
    except celpy.CELEvalError as err:
        text = str(err.args[0]) if err.args else str(err)
        if "undeclared reference" in text:
            name = text.split("'")[1] if text.count("'") >= 2 else text
            return f"undeclared reference {name}"
    except Exception:  # noqa: BLE001 - other runtime errors depend on the data
        pass
    return ""


@dataclass(frozen=True)
class ProjectFacts:
    project_id: str
    form_key: str
    name: str = ""
    amount: Decimal = Decimal(0)
    region: str = ""
    business_line: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    conflict_count: int = 0


def parse_amount(text: str) -> Decimal | None:
    if not text.strip():
        return Decimal(0)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _plain(value: Any) -> Any:
    """JSON-ish value with integral floats as ints (protobuf Struct numbers are all doubles)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def activation(facts: ProjectFacts, submitter: OrgUser) -> dict[str, Any]:
    """What a ``when`` sees: ``project`` (amount as double) and ``submitter``."""
    project = {
        "id": facts.project_id,
        "form_key": facts.form_key,
        "name": facts.name,
        "amount": float(facts.amount),
        "region": facts.region,
        "business_line": facts.business_line,
        "fields": _plain(dict(facts.fields)),
        "conflict_count": int(facts.conflict_count),
    }
    sub = {"id": submitter.id, "department_id": submitter.department_id, "roles": list(submitter.roles)}
    return {"project": celpy.json_to_cel(project), "submitter": celpy.json_to_cel(sub)}


def evaluate_when(expr: str, act: Mapping[str, Any], *, project_id: str = "", step: str = "") -> bool:
    """True when the condition holds; empty means true. An expression that fails to evaluate or
    yields a non-boolean counts as false and is logged as a warning."""
    if not expr.strip():
        return True
    try:
        result = _environment().program(_compiled(expr)).evaluate(dict(act))
    except Exception as err:  # noqa: BLE001 - bad data must not crash planning
        log.warning("approval.when_failed", project_id=project_id, step=step, when=expr, error=str(err)[:300])
        return False
    if isinstance(result, bool | celpy.celtypes.BoolType):  # celpy's BoolType subclasses int, not bool
        return bool(result)
    log.warning("approval.when_not_bool", project_id=project_id, step=step, when=expr, result=str(result)[:100])
    return False


# ---------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlannedStep:
    index: int
    name: str
    mode: str
    approvers: tuple[str, ...]
    sla: str = ""
    sla_seconds: int = 0
    on_timeout: str = ""
    escalate_to: tuple[str, ...] = ()


def resolve_approvers(spec: ApproverSpec | None, submitter_id: str, directory: OrgDirectory) -> list[str]:
    """User ids an approver spec stands for: a user → that user (if known); a role → its holders,
    sorted; manager_of_submitter → the nearest manager in the chain who is not the submitter."""
    if spec is None:
        return []
    if spec.type == "user":
        return [spec.user_id] if spec.user_id else []
    if spec.type == "role":
        return sorted(set(directory.users_with_role(spec.role))) if spec.role else []
    if spec.type == "manager_of_submitter":
        if not submitter_id:
            return []
        for manager in directory.manager_chain(submitter_id):
            if manager and manager != submitter_id:
                return [manager]
        return []
    return []


def plan_steps(policy: Policy, facts: ProjectFacts, submitter_id: str, directory: OrgDirectory) -> list[PlannedStep]:
    """The policy's steps whose ``when`` holds for this project, numbered from 0, approvers
    resolved. A step resolving to nobody stays in the plan with no approvers."""
    submitter = directory.get_user(submitter_id) if submitter_id else None
    if submitter is None:
        if submitter_id:
            log.warning("approval.unknown_submitter", project_id=facts.project_id, submitter_id=submitter_id)
        submitter = OrgUser(id=submitter_id)
    act = activation(facts, submitter)
    planned: list[PlannedStep] = []
    for spec in policy.steps:
        if not evaluate_when(spec.when, act, project_id=facts.project_id, step=spec.name):
            continue
        planned.append(
            PlannedStep(
                index=len(planned),
                name=spec.name,
                mode=spec.mode,
                approvers=tuple(resolve_approvers(spec.approvers, submitter_id, directory)),
                sla=spec.sla,
                sla_seconds=(parse_sla(spec.sla) or 0) if spec.sla else 0,
                on_timeout=spec.on_timeout,
                escalate_to=tuple(resolve_approvers(spec.escalate_to, submitter_id, directory)),
            )
        )
    return planned


# ---------------------------------------------------------------- deciding


def step_outcome(mode: str, task_statuses: Sequence[str]) -> str:
    """A step's outcome from its tasks' statuses. Any reject rejects. ``any``: one approval
    approves; ``all``: every task must be approved."""
    if TASK_REJECTED in task_statuses:
        return OUTCOME_REJECTED
    if mode == "all":
        if task_statuses and all(s == TASK_APPROVED for s in task_statuses):
            return OUTCOME_APPROVED
        return OUTCOME_PENDING
    if TASK_APPROVED in task_statuses:
        return OUTCOME_APPROVED
    return OUTCOME_PENDING


@dataclass(frozen=True)
class StepRecord:
    """What auto-approval needs to know of an earlier step."""

    status: str
    approvers: tuple[str, ...]
    approved_by: tuple[str, ...] = ()


def should_auto_approve(approvers: Sequence[str], earlier: Sequence[StepRecord]) -> bool:
    """A step with exactly one approver is approved without a task when the nearest earlier
    non-skipped step had exactly that one approver and was approved by them."""
    if len(approvers) != 1:
        return False
    previous = next((s for s in reversed(earlier) if s.status != STEP_SKIPPED), None)
    if previous is None or previous.status != STEP_APPROVED:
        return False
    return tuple(previous.approvers) == tuple(approvers) and approvers[0] in previous.approved_by


def instance_status(step_statuses: Sequence[str]) -> str:
    """rejected if any step is; approved once every step is approved or skipped."""
    if STEP_REJECTED in step_statuses:
        return INSTANCE_REJECTED
    if all(s in (STEP_APPROVED, STEP_SKIPPED) for s in step_statuses):
        return INSTANCE_APPROVED
    return INSTANCE_PENDING
