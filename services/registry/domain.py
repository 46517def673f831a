"""Registry rules as plain Python: org directory, project input, statuses and transitions,
collisions (撞单), visibility and field-level read permissions. No grpc, no database."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from baobei.core.errors import Conflict, FieldViolation
from services.registry import uscc
from services.registry.forms import (
    CENT,
    AttachmentLookup,
    FormDef,
    FormSettings,
    has_cents_only,
    parse_date,
    parse_decimal,
    readable,
    unreadable_paths,
    validate_values,
)
from services.registry.names import PROJECT_SIMILAR, normalise_name, project_name_similarity, similar, similarity

MOBILE = re.compile(r"1[3-9]\d{9}")
# Numeric(18, 2): at most 16 integer digits.
MAX_AMOUNT = Decimal("9999999999999999.99")
ADMIN_ROLE = "admin"


# ---------- org ----------


@dataclass(frozen=True)
class Department:
    id: str
    name: str = ""
    parent_id: str = ""
    manager_id: str = ""


@dataclass(frozen=True)
class User:
    id: str
    name: str = ""
    email: str = ""
    mobile: str = ""
    department_id: str = ""
    roles: tuple[str, ...] = ()
    region: str = ""
    # Left the organisation (org sync): kept for history, never authenticated or routed to.
    left: bool = False


def validate_org(
    departments: list[Department],
    users: list[User],
    existing_departments: Mapping[str, Department],
) -> list[FieldViolation]:
    """Violations of an org upsert: ids required and unique in the request, every parent and
    user department must exist once the upsert is applied, and parents must not form a cycle."""
    out: list[FieldViolation] = []
    merged = dict(existing_departments)
    seen: set[str] = set()
    for i, d in enumerate(departments):
        if not d.id.strip():
            out.append(FieldViolation(f"departments[{i}].id", "部门 ID 为必填项", "department id is required"))
        elif d.id in seen:
            out.append(
                FieldViolation(f"departments[{i}].id", f"部门 ID {d.id} 重复", f"duplicate department id {d.id}")
            )
        else:
            seen.add(d.id)
            merged[d.id] = d
    for i, d in enumerate(departments):
        if d.parent_id and d.parent_id not in merged:
            out.append(FieldViolation(f"departments[{i}].parent_id", f"上级部门 {d.parent_id} 不存在",
                                      f"parent department {d.parent_id} does not exist"))
    cyclic = departments_in_cycles(merged)
    for i, d in enumerate(departments):
        if d.id in cyclic and d.parent_id in merged:
            out.append(FieldViolation(f"departments[{i}].parent_id", "部门上下级关系存在循环",
                                      "department parents form a cycle"))
    seen_users: set[str] = set()
    for i, u in enumerate(users):
        if not u.id.strip():
            out.append(FieldViolation(f"users[{i}].id", "用户 ID 为必填项", "user id is required"))
        elif u.id in seen_users:
            out.append(FieldViolation(f"users[{i}].id", f"用户 ID {u.id} 重复", f"duplicate user id {u.id}"))
        seen_users.add(u.id)
        if u.department_id and u.department_id not in merged:
            out.append(FieldViolation(f"users[{i}].department_id", f"部门 {u.department_id} 不存在",
                                      f"department {u.department_id} does not exist"))
        if u.mobile and not MOBILE.fullmatch(u.mobile):
            out.append(FieldViolation(f"users[{i}].mobile", "手机号无效", "invalid mobile number"))
    return out


def departments_in_cycles(departments: Mapping[str, Department]) -> set[str]:
    """Ids of departments that lie on a parent cycle."""
    cyclic: set[str] = set()
    done: set[str] = set()
    for start in departments:
        path: list[str] = []
        on_path: set[str] = set()
        node = start
        while node in departments and node not in done:
            if node in on_path:
                cyclic.update(path[path.index(node):])
                break
            on_path.add(node)
            path.append(node)
            node = departments[node].parent_id
        done.update(path)
    return cyclic


def ancestors(department_id: str, departments: Mapping[str, Department]) -> list[Department]:
    """The department and its ancestors, nearest first (stops safely on a cycle)."""
    out: list[Department] = []
    seen: set[str] = set()
    node = department_id
    while node and node in departments and node not in seen:
        seen.add(node)
        out.append(departments[node])
        node = departments[node].parent_id
    return out


def manager_chain(
    user: User, departments: Mapping[str, Department], left: Collection[str] = frozenset()
) -> list[tuple[str, str]]:
    """(department_id, manager_id) of the user's department and its ancestors, nearest first,
    leaving out departments without a manager; a manager who left (in ``left``) counts as none,
    so the chain walks up past them."""
    return [
        (d.id, d.manager_id)
        for d in ancestors(user.department_id, departments)
        if d.manager_id and d.manager_id not in left
    ]


def managed_departments(user_id: str, departments: Mapping[str, Department]) -> set[str]:
    """Departments a user manages directly or through an ancestor department."""
    if not user_id:
        return set()
    return {
        d.id for d in departments.values()
        if any(a.manager_id == user_id for a in ancestors(d.id, departments))
    }


# ---------- projects ----------


class Status(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    ACTIVE = "active"
    CLOSED = "closed"
    RETURNED = "returned"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


NOT_LIVE = frozenset({Status.DRAFT, Status.REJECTED, Status.CANCELLED})
# SubmitProject: back into approval.
SUBMITTABLE = frozenset({Status.DRAFT, Status.RETURNED})
# SetProjectStatus: every other legal move.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PENDING_APPROVAL: frozenset({Status.ACTIVE, Status.REJECTED, Status.RETURNED, Status.CANCELLED}),
    Status.RETURNED: frozenset({Status.CANCELLED}),
    Status.DRAFT: frozenset({Status.CANCELLED}),
    Status.ACTIVE: frozenset({Status.CLOSED}),
}


def is_live(status: Status) -> bool:
    return status not in NOT_LIVE


def illegal(current: Status, target: Status) -> Conflict:
    return Conflict(
        f"非法的状态变更：{current.value} → {target.value}",
        f"illegal transition: {current.value} -> {target.value}",
        code="illegal_transition",
    )


def check_submit(current: Status) -> None:
    if current not in SUBMITTABLE:
        raise illegal(current, Status.PENDING_APPROVAL)


def check_status_change(current: Status, target: Status) -> bool:
    """True when ``current → target`` is a change to make, False for a no-op (already there);
    Conflict when it is not allowed."""
    if current is target:
        return False
    if target not in TRANSITIONS.get(current, frozenset()):
        raise illegal(current, target)
    return True


@dataclass(frozen=True)
class Customer:
    name: str
    uscc: str = ""
    contact: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ProjectInput:
    """What a caller sends to create a project (raw strings, unvalidated)."""

    owner_id: str
    form_key: str
    name: str
    customer: Customer
    amount: str
    region: str = ""
    business_line: str = ""
    start_date: str = ""
    end_date: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    owner_is_admin: bool = False
    # Integration key (both or neither): at most one project per (source, id).
    external_source: str = ""
    external_id: str = ""


@dataclass(frozen=True)
class ValidProject:
    """A project input once validated and normalised."""

    name: str
    customer: Customer
    amount: Decimal
    region: str
    business_line: str
    start_date: date | None
    end_date: date | None
    fields: dict[str, Any]


@dataclass(frozen=True)
class ConflictHit:
    project_id: str
    reason: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    event: str
    data: dict[str, Any] = field(default_factory=dict)


class Protection(StrEnum):
    NONE = ""
    HOLDER = "holder"  # first in line for the customer, protection starts on approval
    PROTECTED = "protected"
    LAPSED = "lapsed"
    WAITLISTED = "waitlisted"  # 候补: behind the holder, promoted in order
    RELEASED = "released"  # left the line (rejected, cancelled, closed) without lapsing


@dataclass
class ProtectionInfo:
    state: Protection = Protection.NONE
    since: datetime | None = None
    until: datetime | None = None
    cap: datetime | None = None
    position: int = 0
    holder_project_id: str = ""
    follow_ups: int = 0


def protection_window(settings: FormSettings, at: datetime) -> tuple[datetime, datetime]:
    """(until, cap) of a protection starting at ``at``."""
    return at + timedelta(days=settings.protection_days), at + timedelta(days=settings.cap_days)


def extended_until(settings: FormSettings, until: datetime, cap: datetime, at: datetime) -> datetime:
    """A follow-up at ``at`` pushes the end to at + extend days (never earlier, never past the cap)."""
    days = settings.protection_extend_days or settings.protection_days
    return min(max(until, at + timedelta(days=days)), cap)


def remind_at(settings: FormSettings, until: datetime) -> datetime | None:
    return until - timedelta(days=settings.protection_remind_days) if settings.protection_remind_days else None


@dataclass
class Project:
    id: str
    code: str
    status: Status
    name: str
    customer: Customer
    amount: Decimal
    region: str
    business_line: str
    start_date: date | None
    end_date: date | None
    fields: dict[str, Any]
    form_key: str
    form_version: int
    owner_id: str
    department_id: str
    conflicts: list[ConflictHit]
    history: list[HistoryEntry]
    version: int
    created_at: datetime
    updated_at: datetime
    protection: ProtectionInfo = field(default_factory=ProtectionInfo)
    external_source: str = ""
    external_id: str = ""
    # Paths withheld from the viewer this copy was shaped for (see ``redact``).
    hidden: frozenset[str] = frozenset()


# GetProject accepts "ext:<source>:<external_id>" in place of a project id.
EXTERNAL_REF_PREFIX = "ext:"
EXTERNAL_SOURCE_MAX, EXTERNAL_ID_MAX = 50, 200


def parse_external_ref(project_id: str) -> tuple[str, str] | None:
    """(source, external id) of an "ext:<source>:<external_id>" reference, else None."""
    if not project_id.startswith(EXTERNAL_REF_PREFIX):
        return None
    source, sep, external_id = project_id[len(EXTERNAL_REF_PREFIX):].partition(":")
    if not sep or not source.strip() or not external_id.strip():
        return None
    return source.strip(), external_id.strip()


def external_key_violations(source: str, external_id: str) -> list[FieldViolation]:
    """Both or neither, within their lengths; the source must not contain ':'."""
    out: list[FieldViolation] = []
    if bool(source) != bool(external_id):
        missing = "external_id" if source else "external_source"
        out.append(FieldViolation(missing, f"{missing} 须与 {'external_source' if source else 'external_id'} 同时提供",
                                  f"{missing} is required together with "
                                  f"{'external_source' if source else 'external_id'}"))
    if len(source) > EXTERNAL_SOURCE_MAX or ":" in source:
        out.append(FieldViolation("external_source", f"来源标识无效（不含冒号，至多 {EXTERNAL_SOURCE_MAX} 个字符）",
                                  f"invalid source (no ':', at most {EXTERNAL_SOURCE_MAX} characters)"))
    if len(external_id) > EXTERNAL_ID_MAX:
        out.append(FieldViolation("external_id", f"外部 ID 至多 {EXTERNAL_ID_MAX} 个字符",
                                  f"external_id has at most {EXTERNAL_ID_MAX} characters"))
    return out


def validate_project(
    inp: ProjectInput, form: FormDef | None, *,
    user_exists: Callable[[str], bool],
    department_exists: Callable[[str], bool],
    attachment: AttachmentLookup | None = None,
) -> tuple[ValidProject | None, list[FieldViolation]]:
    """Every violation of a project input at once (``None`` project when there are any)."""
    nul = control_violations(inp)
    if nul:  # refused before any lookup: PostgreSQL cannot even compare text with NUL in it
        return None, nul
    out: list[FieldViolation] = []

    def req(value: str, path: str, zh: str, en: str) -> None:
        if not value.strip():
            out.append(FieldViolation(path, f"{zh}为必填项", f"{en} is required"))

    req(inp.owner_id, "owner_id", "所有者", "owner")
    req(inp.name, "name", "项目名称", "project name")
    req(inp.customer.name, "customer.name", "客户名称", "customer name")
    code = uscc.normalise(inp.customer.uscc)
    if code and not uscc.is_valid(code):
        out.append(FieldViolation("customer.uscc", "统一社会信用代码无效（18 位且校验位正确）",
                                  "invalid unified social credit code (18 characters with a valid check character)"))
    phone = inp.customer.phone.strip()
    if phone and not MOBILE.fullmatch(phone):
        out.append(FieldViolation("customer.phone", "客户电话必须是有效的中国大陆手机号",
                                  "customer phone must be a valid mainland-China mobile number"))
    amount = parse_amount(inp.amount, out)
    start, end = parse_date_field(inp.start_date, "start_date", out), parse_date_field(inp.end_date, "end_date", out)
    if start and end and end < start:
        out.append(FieldViolation("end_date", "结束日期不能早于开始日期", "end_date must not be before start_date"))
    clean: dict[str, Any] = {}
    if not inp.form_key.strip():
        out.append(FieldViolation("form_key", "表单为必填项", "form_key is required"))
    elif form is None:
        out.append(FieldViolation("form_key", f"表单 {inp.form_key} 不存在", f"form {inp.form_key} does not exist"))
    else:
        core = {
            "name": inp.name.strip(), "amount": float(amount) if amount is not None else 0.0,
            "region": inp.region.strip(), "business_line": inp.business_line.strip(),
            "start_date": start.isoformat() if start else "", "end_date": end.isoformat() if end else "",
            "customer": {"name": inp.customer.name.strip(), "uscc": code},
        }
        clean, problems = validate_values(
            form, inp.fields, user_exists=user_exists, department_exists=department_exists,
            attachment=attachment, project=core,
        )
        out.extend(problems)
    if out or amount is None:
        return None, out
    customer = Customer(name=inp.customer.name.strip(), uscc=code, contact=inp.customer.contact.strip(), phone=phone)
    return ValidProject(
        name=inp.name.strip(), customer=customer, amount=amount, region=inp.region.strip(),
        business_line=inp.business_line.strip(), start_date=start, end_date=end, fields=clean,
    ), []


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def control_violations(inp: ProjectInput) -> list[FieldViolation]:
    """NUL characters anywhere in the input (never valid text)."""
    paths = {
        "owner_id": inp.owner_id, "form_key": inp.form_key, "name": inp.name, "customer.name": inp.customer.name,
        "customer.uscc": inp.customer.uscc, "customer.contact": inp.customer.contact,
        "customer.phone": inp.customer.phone, "amount": inp.amount, "region": inp.region,
        "business_line": inp.business_line, "start_date": inp.start_date, "end_date": inp.end_date,
        **{f"fields.{k}": v for k, v in inp.fields.items()},
    }
    return [FieldViolation(p.replace("\x00", ""), "不能包含 NUL 字符", "must not contain NUL characters")
            for p, v in paths.items() if _has_nul(v) or _has_nul(p)]


def parse_amount(text: str, out: list[FieldViolation]) -> Decimal | None:
    if not text.strip():
        out.append(FieldViolation("amount", "金额为必填项", "amount is required"))
        return None
    d = parse_decimal(text)
    if d is None:
        out.append(FieldViolation("amount", "金额必须是数字", "amount must be a decimal number"))
    elif d < 0:
        out.append(FieldViolation("amount", "金额不能为负数", "amount must not be negative"))
    elif not has_cents_only(d):
        out.append(FieldViolation("amount", "金额最多两位小数", "amount may have at most 2 decimal places"))
    elif d > MAX_AMOUNT:
        out.append(FieldViolation("amount", "金额过大", "amount is too large"))
    else:
        return d.quantize(CENT)
    return None


def parse_date_field(text: str, path: str, out: list[FieldViolation]) -> date | None:
    if not text.strip():
        return None
    d = parse_date(text)
    if d is None:
        out.append(FieldViolation(path, "日期格式必须是 YYYY-MM-DD", "date must be ISO 8601 (YYYY-MM-DD)"))
    return d


def write_roles_of(owner: User | None, owner_is_admin: bool) -> tuple[set[str], bool]:
    roles = set(owner.roles) if owner else set()
    return roles, owner_is_admin or ADMIN_ROLE in roles


# ---------- collisions ----------


@dataclass(frozen=True)
class Registration:
    """What collision detection needs to know about another project."""

    id: str
    status: Status
    customer_uscc: str
    customer_name_norm: str
    name: str = ""


def find_conflicts(
    project_id: str, customer: Customer, others: Iterable[Registration], *, project_name: str = ""
) -> list[ConflictHit]:
    """Other live projects for the same customer: same USCC, same normalised name, or a highly
    similar name; a similar project name for that customer is added to the reason."""
    code = uscc.normalise(customer.uscc)
    norm = normalise_name(customer.name)
    hits = []
    for o in others:
        if o.id == project_id or not is_live(o.status):
            continue
        reasons = []
        if code and o.customer_uscc == code:
            reasons.append("客户统一社会信用代码相同")
        if norm and o.customer_name_norm == norm:
            reasons.append("客户名称相同")
        elif norm and o.customer_name_norm and similar(norm, o.customer_name_norm):
            reasons.append(f"客户名称高度相似（{similarity(norm, o.customer_name_norm):.0f}%）")
        if reasons and project_name and o.name:
            score = project_name_similarity(project_name, o.name)
            if score >= PROJECT_SIMILAR:
                reasons.append(f"同一客户的项目名称相似（{score:.0f}%）")
        if reasons:
            hits.append(ConflictHit(project_id=o.id, reason="；".join(reasons)))
    return hits


def blocks(policy: str, conflicts: list[ConflictHit]) -> Conflict | None:
    """The 409 a "block" form answers to a colliding registration (None when it may proceed)."""
    if policy != "block" or not conflicts:
        return None
    ids = "、".join(c.project_id for c in conflicts)
    return Conflict(
        f"与已有报备撞单：{ids}（{conflicts[0].reason}）",
        f"collides with existing registrations: {', '.join(c.project_id for c in conflicts)} ({conflicts[0].reason})",
        code="customer_conflict",
    )


# ---------- visibility ----------


@dataclass(frozen=True)
class Viewer:
    user_id: str
    is_admin: bool = False
    roles: frozenset[str] = frozenset()
    approver_project_ids: frozenset[str] = frozenset()
    # Projects where the viewer is assigned a task (the tasks service knows).
    assignee_project_ids: frozenset[str] = frozenset()

    @property
    def admin(self) -> bool:
        return self.is_admin or ADMIN_ROLE in self.roles


def relations(viewer: Viewer | None, project: Project, managed: set[str]) -> list[str]:
    """Why the viewer may see the project (empty = they may not): admin, owner, manager (of its
    department, directly or via an ancestor: ``managed``), approver (tasks, delegation or CC),
    assignee. Other services decide what each relation may do (e.g. tasks: who records costs)."""
    if viewer is None:
        return []
    out = []
    if viewer.admin:
        out.append("admin")
    if viewer.user_id and viewer.user_id == project.owner_id:
        out.append("owner")
    if project.department_id and project.department_id in managed:
        out.append("manager")
    if project.id in viewer.approver_project_ids:
        out.append("approver")
    if project.id in viewer.assignee_project_ids:
        out.append("assignee")
    return out


def can_see(viewer: Viewer | None, project: Project, managed: set[str]) -> bool:
    """``managed``: departments the viewer manages (directly or via an ancestor)."""
    return viewer is None or bool(relations(viewer, project, managed))


def may_read_all(viewer: Viewer | None, project: Project) -> bool:
    """Internal callers, admins and the owner read every field; anyone else is held to read_roles
    (approvers included: they decide on what they may read)."""
    return viewer is None or viewer.admin or bool(viewer.user_id and viewer.user_id == project.owner_id)


def hidden_paths(viewer: Viewer | None, project: Project, form: FormDef | None) -> set[str]:
    """The paths of ``project`` the viewer may not read (``fields.<key>``, ``amount``,
    ``customer.phone``, …); fields the form no longer defines stay visible."""
    if may_read_all(viewer, project) or form is None:
        return set()
    assert viewer is not None
    return unreadable_paths(form, set(viewer.roles))


def redact(project: Project, hidden: set[str]) -> Project:
    """Blank ``hidden`` in place: restricted form fields go, restricted core values become empty,
    and history keeps no before/after of them (an old value stays hidden once cleared)."""
    if not hidden:
        return project
    project.hidden = frozenset(hidden)
    project.fields = {k: v for k, v in project.fields.items() if f"fields.{k}" not in hidden}
    c = project.customer
    project.customer = Customer(
        name="" if "customer.name" in hidden else c.name, uscc="" if "customer.uscc" in hidden else c.uscc,
        contact="" if "customer.contact" in hidden else c.contact,
        phone="" if "customer.phone" in hidden else c.phone,
    )
    if "amount" in hidden:
        project.amount = Decimal(0)  # not shown: the mapping sends "" for a hidden amount
    for name in ("region", "business_line"):
        if name in hidden:
            setattr(project, name, "")
    for name in ("start_date", "end_date"):
        if name in hidden:
            setattr(project, name, None)
    for h in project.history:
        if "changes" in h.data:
            h.data["changes"] = [c for c in h.data["changes"] if c.get("field") not in hidden]
    return project


def visible_fields(viewer: Viewer | None, project: Project, form: FormDef | None) -> dict[str, Any]:
    """The project's fields without those the viewer may not read (owner, admins and internal
    callers see everything; fields the form no longer defines stay visible)."""
    if viewer is None or viewer.admin or (viewer.user_id and viewer.user_id == project.owner_id) or form is None:
        return dict(project.fields)
    out = {}
    for key, value in project.fields.items():
        f = form.field(key)
        if f is None or readable(f, set(viewer.roles)):
            out[key] = value
    return out
