"""Chain planning: approver resolution, the planned steps with their provenance, what-if diffs
and whether a resubmission needs a new chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from baobei.core.errors import Conflict
from services.approval.domain.facts import ProjectFacts, activation, evaluate_whens, parse_amount
from services.approval.domain.org import OrgDirectory, OrgUser
from services.approval.domain.policies import ApproverSpec, Policy, StepSpec
from services.approval.domain.timers import parse_sla

log = structlog.get_logger("services.approval.domain")

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
    return _plain_holders(directory, role)


def _plain_holders(directory: OrgDirectory, role: str) -> list[OrgUser]:
    found = (directory.get_user(i) for i in directory.users_with_role(role))
    return [u for u in found if u is not None and not u.left]


def _links(directory: OrgDirectory, user_id: str) -> list[tuple[str, str]]:
    rich = getattr(directory, "manager_links", None)
    if rich is not None:
        return list(rich(user_id))
    return _own_department(directory, user_id)


def _own_department(directory: OrgDirectory, user_id: str) -> list[tuple[str, str]]:
    user = directory.get_user(user_id)
    return [(user.department_id, "")] if user else []


def _department_manager(directory: OrgDirectory, department_id: str) -> str:
    rich = getattr(directory, "department_manager", None)
    return str(rich(department_id)) if rich is not None else ""


class PlanningReads:
    """The org directory as one request's planning reads it: each read once, and a submitter's
    record with their manager chain in one read when the directory offers ``user_and_links``
    (the registry answers both in one GetManagerChain; anyone's chain comes with their record).
    Made per request and dropped with it, never a cache across requests: an org change applies
    to the next planning. A failed read is not kept (the next ask reads again)."""

    def __init__(self, directory: OrgDirectory, submitters: Iterable[str] = ()) -> None:
        self._directory = directory
        self._submitters = {s for s in submitters if s}
        self._users: dict[str, OrgUser | None] = {}
        self._links: dict[str, list[tuple[str, str]]] = {}
        self._chains: dict[str, list[str]] = {}
        self._holders: dict[str, list[OrgUser]] = {}
        self._with_role: dict[str, list[str]] = {}
        self._heads: dict[str, str] = {}

    def _read_together(self, user_id: str) -> bool:
        """A user's chain is read with the user when the directory can (the user kept if read)."""
        both = getattr(self._directory, "user_and_links", None)
        if both is None:
            return False
        user, links = both(user_id)
        self._users.setdefault(user_id, user)
        self._links[user_id] = list(links)
        return True

    def get_user(self, user_id: str) -> OrgUser | None:
        # A submitter's chain is wanted too (the registry reads it with them); anyone else's is
        # not read for nothing.
        if user_id not in self._users and not (user_id in self._submitters and self._read_together(user_id)):
            self._users[user_id] = self._directory.get_user(user_id)
        return self._users[user_id]

    def _rich(self, name: str) -> bool:
        return getattr(self._directory, name, None) is not None

    def manager_links(self, user_id: str) -> list[tuple[str, str]]:
        if user_id not in self._links and not self._read_together(user_id):
            # A plain directory's answer is built from reads made through these reads.
            self._links[user_id] = (_links(self._directory, user_id) if self._rich("manager_links")
                                    else _own_department(self, user_id))
        return list(self._links[user_id])

    def user_and_links(self, user_id: str) -> tuple[OrgUser | None, list[tuple[str, str]]]:
        return self.get_user(user_id), self.manager_links(user_id)

    def manager_chain(self, user_id: str) -> list[str]:
        if user_id not in self._chains:
            # A rich directory's chain is its manager links' managers (one read for both).
            self._chains[user_id] = ([m for _, m in self.manager_links(user_id) if m] if self._rich("manager_links")
                                     else list(self._directory.manager_chain(user_id)))
        return list(self._chains[user_id])

    def users_with_role(self, role: str) -> list[str]:
        if role not in self._with_role:
            self._with_role[role] = list(self._directory.users_with_role(role))
        return list(self._with_role[role])

    def role_holders(self, role: str) -> list[OrgUser]:
        if role not in self._holders:
            self._holders[role] = (_holders(self._directory, role) if self._rich("role_holders")
                                   else _plain_holders(self, role))
        return list(self._holders[role])

    def department_manager(self, department_id: str) -> str:
        if department_id not in self._heads:
            self._heads[department_id] = _department_manager(self._directory, department_id)
        return self._heads[department_id]


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

