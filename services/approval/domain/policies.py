"""Approval policies: step specs, policy-wide options, normalisation and validation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from baobei.core.errors import FieldViolation
from services.approval.domain.facts import when_problem
from services.approval.domain.org import OrgDirectory
from services.approval.domain.rules import (
    APPROVER_TYPES,
    KEY_RE,
    LADDER_ACTIONS,
    MODES,
    NO_APPROVER_RULES,
    ROLE_SCOPES,
    SUBMITTER_RULES,
    TIMEOUT_ACTIONS,
)
from services.approval.domain.timers import parse_sla


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


# A purpose's policy for one business line: "acceptance:<business line>" (the line as the
# registrations spell it, Chinese included; no whitespace, slashes or control characters).
PURPOSE_KEY_RE = re.compile(r"^(acceptance|change):[^\s/\\?#%\x00-\x1f]+$")


def valid_key(key: str) -> bool:
    return len(key) <= 100 and bool(KEY_RE.match(key) or PURPOSE_KEY_RE.match(key))


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
    if not valid_key(key):
        v.append(FieldViolation("key", "策略标识须为小写字母、数字、下划线或连字符，且以字母或数字开头"
                                "（验收策略可为 acceptance:<业务线>）",
                                "key must match [a-z0-9][a-z0-9_-]* (at most 100 characters), or be "
                                "acceptance:<business line>"))
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

