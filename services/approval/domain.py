"""Approval rules as plain Python: policy validation, CEL conditions, approver resolution with its
special cases, SLA and escalation timers, step outcomes for every mode, auto-approval and
provenance. No grpc, no database; the org directory is reached through the small
``OrgDirectory`` protocol (gRPC in ``org_client``, in-memory in tests and benchmarks)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import structlog

from baobei.core import cel
from baobei.core.errors import Conflict, FieldViolation
from services.approval import calendar

log = structlog.get_logger(__name__)

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SLA_RE = calendar.DURATION_RE
APPROVER_TYPES = (
    "user",
    "role",
    "manager_of_submitter",
    "manager_level",
    "managers_chain",
    "department_head",
)
ROLE_SCOPES = ("", "department", "region")
MODES = ("any", "all", "sequential", "ratio")
TIMEOUT_ACTIONS = ("escalate", "approve", "reject")
LADDER_ACTIONS = ("remind", "escalate", "approve", "reject")
NO_APPROVER_RULES = ("skip", "admin", "block")
SUBMITTER_RULES = ("", "skip_to_manager", "self_approve")
# Decisions an approver takes on a task; other audit actions are listed in AUDIT_ACTIONS.
ACTIONS = ("approve", "reject", "return", "transfer", "add_approver")
POSITIONS = ("before", "after", "parallel")
AUDIT_ACTIONS = ACTIONS + (
    "remind",
    "cc",
    "comment",
    "withdraw",
    "cancel",
    "reassign",
    "escalate",
    "timeout_approve",
    "timeout_reject",
    "resubmit",
)

# Step statuses (StepState.status) and task statuses.
STEP_WAITING, STEP_PENDING, STEP_APPROVED, STEP_REJECTED, STEP_SKIPPED, STEP_RETURNED = (
    "waiting",
    "pending",
    "approved",
    "rejected",
    "skipped",
    "returned",
)
INSTANCE_PENDING, INSTANCE_APPROVED, INSTANCE_REJECTED = "pending", "approved", "rejected"
INSTANCE_RETURNED, INSTANCE_CANCELLED = "returned", "cancelled"
TASK_PENDING, TASK_APPROVED, TASK_REJECTED, TASK_CLOSED, TASK_WAITING = (
    "pending",
    "approved",
    "rejected",
    "closed",
    "waiting",
)
# Task kinds: a planned approver (or one added in parallel / by transfer); one added before or
# after an approver (加签); an escalation resolver, whose decision settles the step alone.
KIND_NORMAL, KIND_BEFORE, KIND_AFTER, KIND_ESCALATED = "normal", "before", "after", "escalated"
OUTCOME_PENDING, OUTCOME_APPROVED, OUTCOME_REJECTED, OUTCOME_RETURNED = "pending", "approved", "rejected", "returned"
AUTO_APPROVE_COMMENT = "同一审批人连续审批，自动通过"
SELF_APPROVE_COMMENT = "审批人即提交人，按策略自动通过"
SYSTEM_ACTOR = "system"


# ---------------------------------------------------------------- org directory


@dataclass(frozen=True)
class OrgUser:
    id: str
    department_id: str = ""
    roles: tuple[str, ...] = ()
    region: str = ""
    # Left the organisation (org sync): never routed to.
    left: bool = False


class OrgDirectory(Protocol):
    """Read-only view of the registry's org directory. Users who left are never routed to:
    ``users_with_role`` / ``role_holders`` leave them out, and the manager chain walks past a
    manager who left (their department counts as having no manager)."""

    def get_user(self, user_id: str) -> OrgUser | None: ...

    def users_with_role(self, role: str) -> list[str]: ...

    def manager_chain(self, user_id: str) -> list[str]:
        """Managers of the user's department and its ancestors, nearest first."""
        ...


class RichDirectory(OrgDirectory, Protocol):
    """What the richer approver types need besides ``OrgDirectory``."""

    def role_holders(self, role: str) -> list[OrgUser]: ...

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        """(department id, manager id) of the user's department and its ancestors, nearest first
        (departments without a manager included, with an empty manager)."""
        ...

    def department_manager(self, department_id: str) -> str: ...


@dataclass
class InMemoryDirectory:
    """An ``OrgDirectory`` over plain dicts (tests, tools, benchmarks)."""

    users: dict[str, OrgUser] = field(default_factory=dict)
    # department id -> (parent id, manager id)
    departments: dict[str, tuple[str, str]] = field(default_factory=dict)
    _by_role: dict[str, list[OrgUser]] | None = field(default=None, repr=False)

    def get_user(self, user_id: str) -> OrgUser | None:
        return self.users.get(user_id)

    def _present(self, user_id: str) -> bool:
        user = self.users.get(user_id)
        return user is None or not user.left

    def role_holders(self, role: str) -> list[OrgUser]:
        if self._by_role is None:
            index: dict[str, list[OrgUser]] = {}
            for u in self.users.values():
                if u.left:
                    continue
                for r in u.roles:
                    index.setdefault(r, []).append(u)
            self._by_role = index
        return sorted(self._by_role.get(role, []), key=lambda u: u.id)

    def users_with_role(self, role: str) -> list[str]:
        return [u.id for u in self.role_holders(role)]

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        user = self.users.get(user_id)
        links: list[tuple[str, str]] = []
        dept, seen = (user.department_id if user else ""), set()
        while dept and dept in self.departments and dept not in seen:
            seen.add(dept)
            parent, manager = self.departments[dept]
            links.append((dept, manager if manager and self._present(manager) else ""))
            dept = parent
        return links

    def manager_chain(self, user_id: str) -> list[str]:
        return [m for _, m in self.manager_links(user_id) if m]

    def department_manager(self, department_id: str) -> str:
        manager = self.departments.get(department_id, ("", ""))[1]
        return manager if manager and self._present(manager) else ""


# ---------------------------------------------------------------- policies


@dataclass(frozen=True)
class ApproverSpec:
    type: str
    user_id: str = ""
    role: str = ""
    # role: "" | department (nearest department up the submitter's tree with a holder) | region
    scope: str = ""
    # manager_level: the N-th manager up; managers_chain: up to N levels (0 = to the top)
    level: int = 0
    # managers_chain: stop at (and include) the first manager holding this role
    until_role: str = ""
    department_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "user_id": self.user_id, "role": self.role}
        # Only non-default extras, so definitions stored before these existed compare equal.
        for name in ("scope", "until_role", "department_id"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        if self.level:
            out["level"] = self.level
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any] | None) -> ApproverSpec | None:
        if not data or not data.get("type"):
            return None
        return ApproverSpec(
            str(data["type"]),
            str(data.get("user_id", "") or ""),
            str(data.get("role", "") or ""),
            scope=str(data.get("scope", "") or ""),
            level=int(data.get("level", 0) or 0),
            until_role=str(data.get("until_role", "") or ""),
            department_id=str(data.get("department_id", "") or ""),
        )


@dataclass(frozen=True)
class LadderLevel:
    """One rung of an escalation ladder: ``after`` (from the step's opening) do ``action``."""

    after: str
    action: str = "escalate"
    to: ApproverSpec | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"after": self.after, "action": self.action, "to": self.to.as_dict() if self.to else None}

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> LadderLevel:
        return LadderLevel(
            after=str(data.get("after", "") or ""),
            action=str(data.get("action", "") or "escalate"),
            to=ApproverSpec.from_dict(data.get("to")),
        )


@dataclass(frozen=True)
class StepSpec:
    name: str
    approvers: ApproverSpec
    when: str = ""
    mode: str = "any"
    sla: str = ""
    escalate_to: ApproverSpec | None = None
    on_timeout: str = ""
    # ratio mode: approvals needed, as a count or as a share of the approvers
    min_approvals: int = 0
    ratio: float = 0.0
    # Share of the SLA after which approvers get a reminder (0 = none).
    remind_at: float = 0.0
    escalation: tuple[LadderLevel, ...] = ()
    cc: tuple[ApproverSpec, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "when": self.when,
            "approvers": self.approvers.as_dict(),
            "mode": self.mode,
            "sla": self.sla,
            "escalate_to": self.escalate_to.as_dict() if self.escalate_to else None,
            "on_timeout": self.on_timeout,
        }
        if self.min_approvals:
            out["min_approvals"] = self.min_approvals
        if self.ratio:
            out["ratio"] = self.ratio
        if self.remind_at:
            out["remind_at"] = self.remind_at
        if self.escalation:
            out["escalation"] = [lv.as_dict() for lv in self.escalation]
        if self.cc:
            out["cc"] = [c.as_dict() for c in self.cc]
        return out

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
            min_approvals=int(data.get("min_approvals", 0) or 0),
            ratio=float(data.get("ratio", 0) or 0),
            remind_at=float(data.get("remind_at", 0) or 0),
            escalation=tuple(LadderLevel.from_dict(lv) for lv in data.get("escalation") or ()),
            cc=tuple(a for a in (ApproverSpec.from_dict(c) for c in data.get("cc") or ()) if a is not None),
        )


@dataclass(frozen=True)
class PolicyOptions:
    """Policy-wide rules: the default branch and the special cases of approver resolution."""

    # Steps used when no step's ``when`` holds (默认分支).
    default_steps: tuple[StepSpec, ...] = ()
    # No approver found: skip the step, route to ``approval_admin``, or block until an admin assigns.
    on_no_approver: str = "skip"
    approval_admin: str = ""
    # The submitter is an approver: "" keep, skip_to_manager, self_approve.
    on_submitter_is_approver: str = ""
    # Same single approver on consecutive steps: auto-approve the later one.
    auto_approve_consecutive: bool = True
    # An explicit "no approval" policy: no steps, projects of its form are approved on submit.
    no_approval: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.no_approval:
            out["no_approval"] = True
        if self.default_steps:
            out["default_steps"] = [s.as_dict() for s in self.default_steps]
        if self.on_no_approver != "skip":
            out["on_no_approver"] = self.on_no_approver
        if self.approval_admin:
            out["approval_admin"] = self.approval_admin
        if self.on_submitter_is_approver:
            out["on_submitter_is_approver"] = self.on_submitter_is_approver
        if not self.auto_approve_consecutive:
            out["auto_approve_consecutive"] = False
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any] | None) -> PolicyOptions:
        data = data or {}
        return PolicyOptions(
            default_steps=tuple(StepSpec.from_dict(s) for s in data.get("default_steps") or ()),
            on_no_approver=str(data.get("on_no_approver", "") or "skip"),
            approval_admin=str(data.get("approval_admin", "") or ""),
            on_submitter_is_approver=str(data.get("on_submitter_is_approver", "") or ""),
            auto_approve_consecutive=bool(data.get("auto_approve_consecutive", True)),
            no_approval=bool(data.get("no_approval", False)),
        )


@dataclass(frozen=True)
class Policy:
    key: str
    form_key: str
    version: int
    steps: tuple[StepSpec, ...]
    options: PolicyOptions = PolicyOptions()


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
                min_approvals=s.min_approvals,
                ratio=s.ratio,
                remind_at=s.remind_at,
                escalation=tuple(
                    LadderLevel(lv.after.strip(), lv.action.strip() or "escalate", _norm_approvers(lv.to))
                    for lv in s.escalation
                ),
                cc=tuple(a for a in (_norm_approvers(c) for c in s.cc) if a is not None),
            )
        )
    return out


def normalise_options(o: PolicyOptions) -> PolicyOptions:
    return PolicyOptions(
        default_steps=tuple(normalise_steps(o.default_steps)),
        on_no_approver=o.on_no_approver.strip() or "skip",
        approval_admin=o.approval_admin.strip(),
        on_submitter_is_approver=o.on_submitter_is_approver.strip(),
        auto_approve_consecutive=o.auto_approve_consecutive,
        no_approval=o.no_approval,
    )


def _norm_approvers(a: ApproverSpec | None) -> ApproverSpec | None:
    if a is None or not a.type.strip():
        return None
    kind = a.type.strip()
    # Keep only the attributes the type uses, so stray values do not create new versions.
    return ApproverSpec(
        kind,
        a.user_id.strip() if kind == "user" else "",
        a.role.strip() if kind == "role" else "",
        scope=a.scope.strip() if kind == "role" else "",
        level=a.level if kind in ("manager_level", "managers_chain") else 0,
        until_role=a.until_role.strip() if kind == "managers_chain" else "",
        department_id=a.department_id.strip() if kind == "department_head" else "",
    )


def validate_policy(
    *,
    key: str,
    form_key: str,
    steps: Sequence[StepSpec],
    directory: OrgDirectory | None,
    options: PolicyOptions | None = None,
) -> list[FieldViolation]:
    """All violations of a policy definition (``steps`` already normalised). With a directory,
    user approvers must exist in it and roles must have at least one holder."""
    v: list[FieldViolation] = []
    options = options or PolicyOptions()
    if not KEY_RE.match(key) or len(key) > 100:
        v.append(FieldViolation("key", "策略标识须为小写字母、数字、下划线或连字符，且以字母或数字开头",
                                "key must match [a-z0-9][a-z0-9_-]* (at most 100 characters)"))
    if not form_key.strip():
        v.append(FieldViolation("form_key", "表单标识为必填项", "form_key is required"))
    elif len(form_key.strip()) > 100:
        v.append(FieldViolation("form_key", "表单标识过长（最多 100 个字符）", "form_key is too long (at most 100)"))
    if options.no_approval:
        if steps or options.default_steps:
            v.append(FieldViolation("steps", "无需审批的策略（no_approval）不能有审批步骤",
                                    "a no_approval policy has no steps"))
    elif not steps:
        v.append(FieldViolation("steps", "至少需要一个审批步骤（或明确设置 no_approval: true）",
                                "at least one step is required (or an explicit no_approval: true)"))
    for i, step in enumerate(steps):
        v.extend(_step_violations(step, f"steps[{i}]", directory))
    for i, step in enumerate(options.default_steps):
        v.extend(_step_violations(step, f"default_steps[{i}]", directory))
        if step.when:
            v.append(FieldViolation(f"default_steps[{i}].when", "默认分支的步骤不能有条件",
                                    "default branch steps take no condition"))
    if options.on_no_approver not in NO_APPROVER_RULES:
        v.append(FieldViolation("on_no_approver", "须为 skip、admin 或 block", "must be skip, admin or block"))
    if options.on_no_approver == "admin" and not options.approval_admin:
        v.append(FieldViolation("approval_admin", "转交审批管理员时须指定审批管理员",
                                "approval_admin is required when on_no_approver is admin"))
    if options.approval_admin and directory is not None and directory.get_user(options.approval_admin) is None:
        v.append(FieldViolation("approval_admin", f"用户不存在：{options.approval_admin}",
                                f"unknown user: {options.approval_admin}"))
    if options.on_submitter_is_approver not in SUBMITTER_RULES:
        v.append(FieldViolation("on_submitter_is_approver", "须为 skip_to_manager 或 self_approve",
                                "must be skip_to_manager or self_approve"))
    return v


def _step_violations(step: StepSpec, p: str, directory: OrgDirectory | None) -> list[FieldViolation]:
    v: list[FieldViolation] = []
    if not step.name:
        v.append(FieldViolation(f"{p}.name", "步骤名称为必填项", "step name is required"))
    elif len(step.name) > 200:
        v.append(FieldViolation(f"{p}.name", "步骤名称过长（最多 200 个字符）", "step name is too long"))
    if step.when:
        problem = when_problem(step.when)
        if problem:
            v.append(FieldViolation(f"{p}.when", f"条件表达式无效：{problem}", f"invalid CEL expression: {problem}"))
    v.extend(_approver_violations(step.approvers, f"{p}.approvers", directory, required=True))
    if step.mode not in MODES:
        v.append(FieldViolation(f"{p}.mode", "审批方式须为 any、all、sequential 或 ratio",
                                "mode must be any, all, sequential or ratio"))
    if step.mode == "ratio":
        if (step.min_approvals > 0) == (step.ratio > 0):
            v.append(FieldViolation(f"{p}.min_approvals", "比例审批须指定 min_approvals 或 ratio 之一",
                                    "ratio mode needs exactly one of min_approvals or ratio"))
        if not 0 <= step.ratio <= 1:
            v.append(FieldViolation(f"{p}.ratio", "比例须在 0 到 1 之间", "ratio must be between 0 and 1"))
        if step.min_approvals < 0:
            v.append(FieldViolation(f"{p}.min_approvals", "人数不能为负", "min_approvals must not be negative"))
    if step.sla and parse_sla(step.sla) is None:
        v.append(FieldViolation(f"{p}.sla", "时限格式无效（如 30s、24h、3d、8wh、2wd）",
                                "invalid sla (e.g. 30s, 24h, 3d, 8wh, 2wd)"))
    if step.on_timeout and step.on_timeout not in TIMEOUT_ACTIONS:
        v.append(FieldViolation(f"{p}.on_timeout", "超时处理须为 escalate、approve 或 reject",
                                "on_timeout must be escalate, approve or reject"))
    if step.on_timeout == "escalate" and step.escalate_to is None:
        v.append(FieldViolation(f"{p}.escalate_to", "超时升级时须指定升级对象",
                                "escalate_to is required when on_timeout is escalate"))
    if step.escalate_to is not None:
        v.extend(_approver_violations(step.escalate_to, f"{p}.escalate_to", directory, required=False))
    if step.remind_at and not (0 < step.remind_at < 1 and step.sla):
        v.append(FieldViolation(f"{p}.remind_at", "提醒比例须在 0 与 1 之间，且步骤须有时限",
                                "remind_at must be between 0 and 1 and the step needs an sla"))
    for j, lv in enumerate(step.escalation):
        q = f"{p}.escalation[{j}]"
        if parse_sla(lv.after) is None:
            v.append(FieldViolation(f"{q}.after", "时长格式无效（如 4h、8wh）", "invalid duration (e.g. 4h, 8wh)"))
        if lv.action not in LADDER_ACTIONS:
            v.append(FieldViolation(f"{q}.action", "须为 remind、escalate、approve 或 reject",
                                    "must be remind, escalate, approve or reject"))
        if lv.action == "escalate" and lv.to is None:
            v.append(FieldViolation(f"{q}.to", "升级时须指定升级对象", "to is required for escalate"))
        if lv.to is not None:
            v.extend(_approver_violations(lv.to, f"{q}.to", directory, required=False))
    for j, c in enumerate(step.cc):
        v.extend(_approver_violations(c, f"{p}.cc[{j}]", directory, required=False))
    return v


def _approver_violations(
    a: ApproverSpec | None, path: str, directory: OrgDirectory | None, *, required: bool
) -> list[FieldViolation]:
    if a is None:
        if required:
            return [FieldViolation(f"{path}.type", "审批人类型为必填项", "approvers.type is required")]
        return []
    if a.type not in APPROVER_TYPES:
        names = "、".join(APPROVER_TYPES)
        return [FieldViolation(f"{path}.type", f"审批人类型须为 {names} 之一",
                               f"type must be one of {', '.join(APPROVER_TYPES)}")]
    if a.type == "user":
        if not a.user_id:
            return [FieldViolation(f"{path}.user_id", "用户为必填项", "user_id is required")]
        if directory is not None and directory.get_user(a.user_id) is None:
            return [FieldViolation(f"{path}.user_id", f"用户不存在：{a.user_id}", f"unknown user: {a.user_id}")]
    if a.type == "role":
        if not a.role:
            return [FieldViolation(f"{path}.role", "角色为必填项", "role is required")]
        if a.scope not in ROLE_SCOPES:
            return [FieldViolation(f"{path}.scope", "范围须为 department 或 region",
                                   "scope must be department or region")]
        if directory is not None and not directory.users_with_role(a.role):
            return [FieldViolation(f"{path}.role", f"角色不存在（无人担任）：{a.role}", f"unknown role: {a.role}")]
    if a.type == "manager_level" and a.level < 1:
        return [FieldViolation(f"{path}.level", "层级须为正整数", "level must be a positive integer")]
    if a.type == "managers_chain" and a.level < 0:
        return [FieldViolation(f"{path}.level", "层级不能为负", "level must not be negative")]
    if a.type == "managers_chain" and a.until_role and directory is not None and not directory.users_with_role(
        a.until_role
    ):
        return [FieldViolation(f"{path}.until_role", f"角色不存在（无人担任）：{a.until_role}",
                               f"unknown role: {a.until_role}")]
    if a.type == "department_head" and not a.department_id:
        return [FieldViolation(f"{path}.department_id", "部门为必填项", "department_id is required")]
    return []


# ---------------------------------------------------------------- SLA


def parse_sla(text: str) -> int | None:
    """Nominal seconds of an SLA like ``30s``, ``15m``, ``24h``, ``3d``, ``8wh`` or ``2wd``; None
    when invalid. Working units count as their working length here (``8wh`` = 8 h); the real
    deadline on the mainland calendar comes from ``timers``."""
    m = SLA_RE.match(text.strip())
    if not m:
        return None
    return calendar.nominal_seconds(text) if int(m.group(1)) else 0


@dataclass(frozen=True)
class Timer:
    """A durable timer of an open step, fired by the workflow."""

    index: int
    # remind | escalate | approve | reject
    action: str
    at: datetime
    level: int = 0
    to: tuple[str, ...] = ()


def step_timers(
    *,
    opened_at: datetime,
    sla: str,
    on_timeout: str,
    escalate_to: Sequence[str],
    remind_at: float,
    escalation: Sequence[Mapping[str, Any]],
) -> tuple[datetime | None, list[Timer]]:
    """Due time and timers of a step opened at ``opened_at``: the reminder at ``remind_at`` of the
    SLA, the SLA's own action, then each ladder level; in firing order."""
    due = calendar.add_duration(opened_at, sla) if sla else None
    raw: list[tuple[datetime, str, int, tuple[str, ...]]] = []
    if due is not None and remind_at:
        at = calendar.add_duration(opened_at, sla, remind_at)
        if at is not None:
            raw.append((at, "remind", 0, ()))
    if due is not None and on_timeout:
        raw.append((due, on_timeout, 0, tuple(escalate_to)))
    for n, lv in enumerate(escalation, start=1):
        at = calendar.add_duration(opened_at, str(lv.get("after", "")))
        if at is not None:
            raw.append((at, str(lv.get("action", "escalate")), n, tuple(lv.get("to") or ())))
    raw.sort(key=lambda t: (t[0], t[2]))
    return due, [Timer(index=i, action=a, at=at, level=lv, to=to) for i, (at, a, lv, to) in enumerate(raw)]


# ---------------------------------------------------------------- CEL

def _sample_activation() -> dict[str, Any]:
    return activation(
        ProjectFacts(project_id="", form_key="", name="", amount=Decimal(0)),
        OrgUser(id=""),
    )


def when_problem(expr: str) -> str:
    """Why a CEL condition is unusable ("" if fine): a parse error, or a reference to a
    variable other than ``project`` and ``submitter``."""
    kind, text = cel.problem(expr, _sample_activation())
    if kind == "undeclared":
        return f"undeclared reference {text}"
    return text


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
    # [{"project_id", "reason"}] of live registrations this one collides with (撞单).
    conflicts: tuple[Mapping[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "form_key": self.form_key,
            "name": self.name,
            "amount": format(self.amount, "f"),
            "region": self.region,
            "business_line": self.business_line,
            "fields": _plain(dict(self.fields)),
            "conflict_count": self.effective_conflict_count,
            "conflicts": [dict(c) for c in self.conflicts],
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ProjectFacts:
        return ProjectFacts(
            project_id=str(data.get("project_id", "")),
            form_key=str(data.get("form_key", "")),
            name=str(data.get("name", "")),
            amount=parse_amount(str(data.get("amount", "0"))) or Decimal(0),
            region=str(data.get("region", "")),
            business_line=str(data.get("business_line", "")),
            fields=dict(data.get("fields") or {}),
            conflict_count=int(data.get("conflict_count", 0) or 0),
            conflicts=tuple(dict(c) for c in data.get("conflicts") or ()),
        )

    @property
    def effective_conflict_count(self) -> int:
        return max(int(self.conflict_count), len(self.conflicts))

    def content_hash(self) -> str:
        """Changes when what the approvers decide on changes (form content, amount, ...)."""
        data = self.as_dict()
        data.pop("conflicts", None)
        data.pop("conflict_count", None)
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


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
    """What a ``when`` sees: ``project`` (amount as double, ``conflicts`` as a list of
    ``{project_id, reason}``, ``conflict_count``) and ``submitter``."""
    project = {
        "id": facts.project_id,
        "form_key": facts.form_key,
        "name": facts.name,
        "amount": float(facts.amount),
        "region": facts.region,
        "business_line": facts.business_line,
        "fields": _plain(dict(facts.fields)),
        "conflict_count": facts.effective_conflict_count,
        "conflicts": [
            {"project_id": str(c.get("project_id", "")), "reason": str(c.get("reason", ""))} for c in facts.conflicts
        ],
    }
    sub = {
        "id": submitter.id,
        "department_id": submitter.department_id,
        "roles": list(submitter.roles),
        "region": submitter.region,
    }
    return {"project": cel.to_cel(project), "submitter": cel.to_cel(sub)}


def evaluate_whens(
    exprs: Sequence[str], act: Mapping[str, Any], *, project_id: str = "", steps: Sequence[str] = ()
) -> list[bool]:
    """``evaluate_when`` for several conditions. They run as one program; when that reports an
    error (one condition failed) or a non-boolean, each is evaluated on its own so only the
    failing ones count as false (and are logged)."""
    names = list(steps) or [""] * len(exprs)
    present = [(i, e) for i, e in enumerate(exprs) if e.strip()]
    out = [True] * len(exprs)
    if not present:
        return out
    results = cel.evaluate_all([e for _, e in present], act)
    if results is not None and all(cel.is_bool(r) for r in results):
        for (i, _), r in zip(present, results, strict=True):
            out[i] = bool(r)
        return out
    for i, e in present:
        out[i] = evaluate_when(e, act, project_id=project_id, step=names[i])
    return out


def evaluate_when(expr: str, act: Mapping[str, Any], *, project_id: str = "", step: str = "") -> bool:
    """True when the condition holds; empty means true. An expression that fails to evaluate or
    yields a non-boolean counts as false and is logged as a warning."""
    if not expr.strip():
        return True
    try:
        result = cel.evaluate(expr, act)
    except Exception as err:  # noqa: BLE001 - bad data must not crash planning
        log.warning("approval.when_failed", project_id=project_id, step=step, when=expr, error=str(err)[:300])
        return False
    if cel.is_bool(result):
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
    min_approvals: int = 0
    ratio: float = 0.0
    remind_at: float = 0.0
    # [{"after", "action", "to": [user ids]}]
    escalation: tuple[Mapping[str, Any], ...] = ()
    cc: tuple[str, ...] = ()
    # No approver and the policy says block: the step waits for an admin to assign one.
    blocked: bool = False
    # The submitter was the approver and the policy says self-approve: approved at opening.
    self_approved: bool = False
    # Why this step is in the chain with these approvers (see ``Provenance``).
    provenance: Mapping[str, Any] = field(default_factory=dict)


def _chain_ids(directory: OrgDirectory, submitter_id: str) -> list[str]:
    return [m for m in directory.manager_chain(submitter_id) if m and m != submitter_id]


def resolve_approvers(spec: ApproverSpec | None, submitter_id: str, directory: OrgDirectory) -> list[str]:
    """User ids an approver spec stands for:

    * user → that user; role → its holders, sorted (``scope`` department: holders in the nearest
      department up the submitter's tree that has one; region: holders in the submitter's region);
    * manager_of_submitter → the nearest manager in the chain who is not the submitter;
    * manager_level N → the N-th distinct manager up the chain;
    * managers_chain → the managers up the chain, nearest first, up to ``level`` levels and/or up
      to the first holding ``until_role`` (included);
    * department_head → the manager of ``department_id``."""
    if spec is None:
        return []
    if spec.type == "user":
        if not spec.user_id:
            return []
        named = directory.get_user(spec.user_id)
        # A named approver who left counts as no approver (the policy's on_no_approver applies).
        return [] if named is not None and named.left else [spec.user_id]
    if spec.type == "role":
        if not spec.role:
            return []
        if not spec.scope:
            return sorted(set(directory.users_with_role(spec.role)))
        holders = _holders(directory, spec.role)
        submitter = directory.get_user(submitter_id) if submitter_id else None
        if submitter is None:
            return []
        if spec.scope == "region":
            return sorted({u.id for u in holders if u.region and u.region == submitter.region})
        for dept, _ in _links(directory, submitter_id):
            found = sorted({u.id for u in holders if u.department_id == dept})
            if found:
                return found
        return []
    if not submitter_id and spec.type != "department_head":
        return []
    if spec.type == "manager_of_submitter":
        chain = _chain_ids(directory, submitter_id)
        return chain[:1]
    if spec.type == "manager_level":
        chain = list(dict.fromkeys(_chain_ids(directory, submitter_id)))
        return [chain[spec.level - 1]] if 0 < spec.level <= len(chain) else []
    if spec.type == "managers_chain":
        chain = list(dict.fromkeys(_chain_ids(directory, submitter_id)))
        out: list[str] = []
        for manager in chain:
            if spec.level and len(out) >= spec.level:
                break
            out.append(manager)
            if spec.until_role:
                user = directory.get_user(manager)
                if user is not None and spec.until_role in user.roles:
                    break
        return out
    if spec.type == "department_head":
        manager = _department_manager(directory, spec.department_id)
        return [manager] if manager else []
    return []


def _holders(directory: OrgDirectory, role: str) -> list[OrgUser]:
    rich = getattr(directory, "role_holders", None)
    if rich is not None:
        return [u for u in rich(role) if not u.left]
    found = (directory.get_user(i) for i in directory.users_with_role(role))
    return [u for u in found if u is not None and not u.left]


def _links(directory: OrgDirectory, user_id: str) -> list[tuple[str, str]]:
    rich = getattr(directory, "manager_links", None)
    if rich is not None:
        return list(rich(user_id))
    user = directory.get_user(user_id)
    return [(user.department_id, "")] if user else []


def _department_manager(directory: OrgDirectory, department_id: str) -> str:
    rich = getattr(directory, "department_manager", None)
    return str(rich(department_id)) if rich is not None else ""


def plan_steps(policy: Policy, facts: ProjectFacts, submitter_id: str, directory: OrgDirectory) -> list[PlannedStep]:
    """The policy's steps whose ``when`` holds for this project (or its default branch when none
    does), numbered from 0, approvers resolved and the policy's special cases applied. Each step
    carries its provenance: which rule selected it, how its approvers were found, what applied."""
    submitter = directory.get_user(submitter_id) if submitter_id else None
    if submitter is None:
        if submitter_id:
            log.warning("approval.unknown_submitter", project_id=facts.project_id, submitter_id=submitter_id)
        submitter = OrgUser(id=submitter_id)
    options = policy.options
    if options.no_approval:
        return []
    act = activation(facts, submitter)
    holds = evaluate_whens([s.when for s in policy.steps], act, project_id=facts.project_id,
                           steps=[s.name for s in policy.steps])
    selected: list[tuple[int, StepSpec, str]] = [
        (i, spec, "steps") for i, (spec, ok) in enumerate(zip(policy.steps, holds, strict=True)) if ok
    ]
    if not selected and options.default_steps:
        selected = [(i, spec, "default_steps") for i, spec in enumerate(options.default_steps)]
    planned: list[PlannedStep] = []
    for rule_index, spec, branch in selected:
        approvers = resolve_approvers(spec.approvers, submitter_id, directory)
        notes: list[dict[str, str]] = []
        blocked = self_approved = False
        if submitter_id and submitter_id in approvers and options.on_submitter_is_approver:
            if options.on_submitter_is_approver == "skip_to_manager":
                manager = next(iter(_chain_ids(directory, submitter_id)), "")
                approvers = list(dict.fromkeys(manager if a == submitter_id else a for a in approvers if a))
                approvers = [a for a in approvers if a]
                notes.append(_note("submitter_is_approver", f"审批人即提交人，改由其上级 {manager or '（无）'} 审批",
                                   f"the submitter is an approver: their manager {manager or '(none)'} approves"))
            elif options.on_submitter_is_approver == "self_approve":
                self_approved = True
                approvers = [submitter_id]
                notes.append(_note("submitter_is_approver", "审批人即提交人，按策略自动通过",
                                   "the submitter is an approver: approved by policy"))
        if not approvers:
            if options.on_no_approver == "admin" and options.approval_admin:
                approvers = [options.approval_admin]
                notes.append(_note("no_approver", f"未找到审批人，转交审批管理员 {options.approval_admin}",
                                   f"no approver found: routed to the approval admin {options.approval_admin}"))
            elif options.on_no_approver == "block":
                blocked = True
                notes.append(_note("no_approver", "未找到审批人，等待管理员指派",
                                   "no approver found: waiting for an admin to assign one"))
            else:
                notes.append(_note("no_approver", "未找到审批人，已跳过", "no approver found: skipped"))
        escalation = tuple(
            {
                "after": lv.after,
                "action": lv.action,
                "to": resolve_approvers(lv.to, submitter_id, directory) if lv.to else [],
            }
            for lv in spec.escalation
        )
        planned.append(
            PlannedStep(
                index=len(planned),
                name=spec.name,
                mode=spec.mode,
                approvers=tuple(approvers),
                sla=spec.sla,
                sla_seconds=(parse_sla(spec.sla) or 0) if spec.sla else 0,
                on_timeout=spec.on_timeout,
                escalate_to=tuple(resolve_approvers(spec.escalate_to, submitter_id, directory)),
                min_approvals=spec.min_approvals,
                ratio=spec.ratio,
                remind_at=spec.remind_at,
                escalation=escalation,
                cc=tuple(dict.fromkeys(u for c in spec.cc for u in resolve_approvers(c, submitter_id, directory))),
                blocked=blocked,
                self_approved=self_approved,
                provenance={
                    "branch": branch,
                    "rule_index": rule_index,
                    "rule": f"{branch}[{rule_index}]",
                    "when": spec.when,
                    "when_result": True,
                    "approver_rule": spec.approvers.as_dict(),
                    "resolved": list(resolve_approvers(spec.approvers, submitter_id, directory))
                    if notes
                    else list(approvers),
                    "planned": list(approvers),
                    "notes": notes,
                },
            )
        )
    return planned


def require_policy(policy: Policy | None, form_key: str) -> Policy:
    """Projects are submitted only to a policy: a form without one is refused (an explicit
    no-approval policy is the way to have projects approved on submit)."""
    if policy is None:
        raise Conflict(
            f"表单 {form_key} 没有审批策略，不能提交；请管理员先配置审批策略（或明确设置为无需审批 no_approval）",
            f"form {form_key} has no approval policy, so its projects cannot be submitted; an administrator "
            "must set one (or an explicit no_approval policy)",
            code="no_approval_policy",
        )
    return policy


def _note(kind: str, zh: str, en: str) -> dict[str, str]:
    return {"kind": kind, "zh": zh, "en": en}


def plan_inputs(policy: Policy | None, facts: ProjectFacts, submitter: OrgUser | None) -> dict[str, Any]:
    """The inputs a chain was planned from (stored with the instance for provenance and what-if)."""
    return {
        "policy_key": policy.key if policy else "",
        "policy_version": policy.version if policy else 0,
        **({"no_approval": True} if policy is not None and policy.options.no_approval else {}),
        "project": facts.as_dict(),
        "submitter": {
            "id": submitter.id if submitter else "",
            "department_id": submitter.department_id if submitter else "",
            "roles": list(submitter.roles) if submitter else [],
            "region": submitter.region if submitter else "",
        },
    }


# ---------------------------------------------------------------- what-if


@dataclass(frozen=True)
class ChainDiff:
    project_id: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    # step name -> (before, after) approvers
    approvers_changed: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.approvers_changed)


def diff_chains(
    project_id: str, before: Sequence[tuple[str, Sequence[str]]], after: Sequence[tuple[str, Sequence[str]]]
) -> ChainDiff:
    """Steps (by name) added or removed and approvers changed between two chains."""
    old = {name: tuple(a) for name, a in before}
    new = {name: tuple(a) for name, a in after}
    changed = {
        name: (old[name], new[name])
        for name in new
        if name in old and tuple(sorted(old[name])) != tuple(sorted(new[name]))
    }
    return ChainDiff(
        project_id=project_id,
        added=tuple(n for n, _ in after if n not in old),
        removed=tuple(n for n, _ in before if n not in new),
        approvers_changed=changed,
    )


# ---------------------------------------------------------------- resubmission after a return


def planned_chain(steps: Sequence[PlannedStep]) -> list[tuple[str, tuple[str, ...]]]:
    """(step name, approvers as planned) of a chain: what routing decided, before any transfer."""
    return [(s.name, tuple(s.provenance.get("planned", s.approvers))) for s in steps]


def replan_reason(
    before_inputs: Mapping[str, Any],
    before_chain: Sequence[tuple[str, Sequence[str]]],
    after_inputs: Mapping[str, Any],
    after_chain: Sequence[tuple[str, Sequence[str]]],
) -> str:
    """Why a returned project, resubmitted, gets a new chain from the start ("" = it resumes at
    the returning step): the policy, evaluated on the resubmitted facts, plans another chain than
    the one the approval was planned with (steps added or removed, other approvers). Resuming
    would skip the steps the new facts require (a raised amount). The reason names the routing
    facts that changed; form field values are not repeated (they may be read-restricted)."""
    diff = diff_chains("", before_chain, after_chain)
    if not diff.changed:
        return ""
    changes = routing_changes(before_inputs, after_inputs)
    if changes:
        return "; ".join(changes)
    parts = [f"+{n}" for n in diff.added] + [f"-{n}" for n in diff.removed]
    parts += [f"{n}: {','.join(a) or '-'} → {','.join(b) or '-'}" for n, (a, b) in diff.approvers_changed.items()]
    return "chain " + "; ".join(parts)


def routing_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What a ``when`` or approver resolution can read that differs between two ``plan_inputs``."""
    out: list[str] = []
    def policy(i: Mapping[str, Any]) -> tuple[Any, Any]:
        return i.get("policy_key"), i.get("policy_version")

    if policy(before) != policy(after):
        out.append(f"policy {before.get('policy_key') or '-'} v{before.get('policy_version', 0)} → "
                   f"{after.get('policy_key') or '-'} v{after.get('policy_version', 0)}")
    old_p, new_p = before.get("project") or {}, after.get("project") or {}
    old_amount, new_amount = parse_amount(str(old_p.get("amount", "0"))), parse_amount(str(new_p.get("amount", "0")))
    if old_amount != new_amount:
        out.append(f"amount {_money(old_amount)} → {_money(new_amount)}")
    for key in ("region", "business_line", "conflict_count"):
        if str(old_p.get(key, "")) != str(new_p.get(key, "")):
            out.append(f"{key} {old_p.get(key) or '-'} → {new_p.get(key) or '-'}")
    old_f, new_f = old_p.get("fields") or {}, new_p.get("fields") or {}
    out += [f"fields.{k} changed" for k in sorted(set(old_f) | set(new_f)) if old_f.get(k) != new_f.get(k)]
    old_s, new_s = before.get("submitter") or {}, after.get("submitter") or {}
    for key in ("department_id", "region"):
        if str(old_s.get(key, "")) != str(new_s.get(key, "")):
            out.append(f"submitter.{key} {old_s.get(key) or '-'} → {new_s.get(key) or '-'}")
    if sorted(old_s.get("roles") or []) != sorted(new_s.get("roles") or []):
        out.append("submitter.roles changed")
    return out


def _money(value: Decimal | None) -> str:
    return "-" if value is None else format(value.quantize(Decimal("0.01")), "f")


# ---------------------------------------------------------------- deciding


@dataclass(frozen=True)
class TaskState:
    status: str
    kind: str = KIND_NORMAL


def needed_approvals(mode: str, total: int, *, min_approvals: int = 0, ratio: float = 0.0) -> int:
    """Approvals a step needs: any 1; all and sequential every approver; ratio the count, or the
    share of approvers rounded up (capped at the number of approvers)."""
    if total <= 0:
        return 1
    if mode == "any":
        return 1
    if mode == "ratio":
        wanted = min_approvals if min_approvals > 0 else math.ceil(round(ratio * total, 9))
        return max(1, min(total, wanted))
    return total


def step_outcome(
    mode: str,
    task_statuses: Sequence[str | TaskState],
    *,
    total: int | None = None,
    min_approvals: int = 0,
    ratio: float = 0.0,
) -> str:
    """A step's outcome from its tasks. An escalation resolver's decision settles it alone. A
    rejection by an approver added before or after rejects. Normal tasks: ``any`` the first
    decision decides; ``all``/``sequential`` one rejection rejects and every approver must
    approve; ``ratio`` approves once enough approve and rejects once that can no longer happen.
    Approvers added after someone (后加签) must approve as well. ``total`` is the number of
    approvers of the step (defaults to its normal, not closed, tasks)."""
    tasks = [t if isinstance(t, TaskState) else TaskState(t) for t in task_statuses]
    for t in tasks:
        if t.kind == KIND_ESCALATED and t.status in (TASK_APPROVED, TASK_REJECTED):
            return OUTCOME_APPROVED if t.status == TASK_APPROVED else OUTCOME_REJECTED
    if any(t.kind in (KIND_BEFORE, KIND_AFTER) and t.status == TASK_REJECTED for t in tasks):
        return OUTCOME_REJECTED
    normal = [t for t in tasks if t.kind == KIND_NORMAL and t.status != TASK_CLOSED]
    approvals = sum(1 for t in normal if t.status == TASK_APPROVED)
    rejections = sum(1 for t in normal if t.status == TASK_REJECTED)
    count = total if total is not None else len(normal)
    if mode in ("any", "all", "sequential") and rejections:
        base = OUTCOME_REJECTED
    elif not normal and total is None:
        base = OUTCOME_PENDING
    else:
        needed = needed_approvals(mode, count, min_approvals=min_approvals, ratio=ratio)
        if approvals >= needed:
            base = OUTCOME_APPROVED
        elif count - rejections < needed:
            base = OUTCOME_REJECTED
        else:
            base = OUTCOME_PENDING
    if base == OUTCOME_APPROVED and any(t.kind == KIND_AFTER and t.status != TASK_APPROVED for t in tasks):
        return OUTCOME_PENDING
    return base


@dataclass(frozen=True)
class StepRecord:
    """What auto-approval needs to know of an earlier step."""

    status: str
    approvers: tuple[str, ...]
    approved_by: tuple[str, ...] = ()
    # The earlier step's approval predates a change of the form (resubmission with edits).
    stale: bool = False


def should_auto_approve(approvers: Sequence[str], earlier: Sequence[StepRecord]) -> bool:
    """A step with exactly one approver is approved without a task when the nearest earlier
    non-skipped step had exactly that one approver and was approved by them, and the form has not
    changed since."""
    if len(approvers) != 1:
        return False
    previous = next((s for s in reversed(earlier) if s.status != STEP_SKIPPED), None)
    if previous is None or previous.status != STEP_APPROVED or previous.stale:
        return False
    return tuple(previous.approvers) == tuple(approvers) and approvers[0] in previous.approved_by


def instance_status(step_statuses: Sequence[str]) -> str:
    """rejected if any step is; approved once every step is approved or skipped."""
    if STEP_REJECTED in step_statuses:
        return INSTANCE_REJECTED
    if all(s in (STEP_APPROVED, STEP_SKIPPED) for s in step_statuses):
        return INSTANCE_APPROVED
    return INSTANCE_PENDING


@dataclass(frozen=True)
class Delegation:
    user_id: str
    delegate_id: str
    starts_at: datetime
    ends_at: datetime

    def active(self, at: datetime) -> bool:
        return self.starts_at <= at < self.ends_at


def acting_for(actor_id: str, approver_id: str, delegations: Iterable[Delegation], at: datetime) -> str | None:
    """Whom ``actor_id`` acts for on ``approver_id``'s task: "" as themselves, the approver when
    an active delegation names the actor, None when they may not act."""
    if actor_id == approver_id:
        return ""
    for d in delegations:
        if d.user_id == approver_id and d.delegate_id == actor_id and d.active(at):
            return approver_id
    return None


# ---------------------------------------------------------------- action links

# CheckActionLink states (HTTP 200 page / 410 / 403 / 409 at the edge).
LINK_USABLE, LINK_USED, LINK_NOT_ASSIGNEE, LINK_DECIDED = "usable", "used", "not_assignee", "decided"
# How a task came to be closed without a decision of its own approver.
CLOSED_BY_TRANSFER, CLOSED_BY_REASSIGN = "transfer", "reassign"


@dataclass(frozen=True)
class LinkFacts:
    """What deciding an action link's state needs to know."""

    # A decision was already recorded with this link.
    used: bool
    # The approver the link was minted for, and the task's approver.
    link_approver_id: str
    task_approver_id: str
    task_status: str
    step_status: str
    instance_status: str
    # "transfer" / "reassign" when the task was closed by moving it to someone else, else "".
    closed_by: str = ""


def action_link_state(f: LinkFacts) -> str:
    """used beats everything (a used link never works again); a link whose approver no longer
    holds the task (other approver, transferred, reassigned) → not_assignee; task, step and
    instance all pending → usable; anything else (decided by the approver through another
    channel, another approver decided the step, the approval ended, was withdrawn or
    superseded, the task is held back behind an approver added before) → decided. Escalation
    only adds approvers, so it leaves the original approver's link usable."""
    if f.used:
        return LINK_USED
    if f.link_approver_id != f.task_approver_id:
        return LINK_NOT_ASSIGNEE
    if f.task_status == TASK_CLOSED and f.closed_by in (CLOSED_BY_TRANSFER, CLOSED_BY_REASSIGN):
        return LINK_NOT_ASSIGNEE
    if (
        f.task_status == TASK_PENDING
        and f.step_status == STEP_PENDING
        and f.instance_status == INSTANCE_PENDING
    ):
        return LINK_USABLE
    return LINK_DECIDED
