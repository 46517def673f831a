"""Registrations: the project model, its input and the validation of that input. Pure."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from baobei.core.errors import FieldViolation, Forbidden
from services.registry import uscc
from services.registry.domain.org import ADMIN_ROLE, MOBILE, User
from services.registry.domain.protection import ProtectionInfo
from services.registry.domain.status import Status
from services.registry.forms import (
    CENT,
    AttachmentLookup,
    FormDef,
    has_cents_only,
    parse_date,
    parse_decimal,
    validate_values,
)

# Numeric(18, 2): at most 16 integer digits.
MAX_AMOUNT = Decimal("9999999999999999.99")


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
    # How alike (0–200): the customers' name similarity (100 for the same USCC or normalised
    # name) plus the project names' similarity when it reaches PROJECT_SIMILAR. Lists carried
    # into workflows keep the highest scores; 0 = unknown (stored before the score existed).
    score: float = 0.0


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    actor: str
    event: str
    data: dict[str, Any] = field(default_factory=dict)


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


# What only the owner (or an admin) may do to a project: (zh, en) of the refusal.
OWNER_ONLY = {
    "submit": ("提交", "submit it"),
    "follow_up": ("记录跟进", "record follow-ups"),
    "edit": ("修改", "edit it"),
}


def check_owner(action: str, *, actor_id: str, actor_is_admin: bool, owner_id: str) -> None:
    """Forbidden unless the actor owns the project or is an admin."""
    if not actor_is_admin and actor_id != owner_id:
        zh, en = OWNER_ONLY[action]
        raise Forbidden(f"只有项目所有者可以{zh}", f"only the project owner may {en}", code="not_owner")
