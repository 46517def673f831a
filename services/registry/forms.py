"""Form definitions and the validation of a project's ``fields`` against one version of them.
Pure functions: existence of users/departments comes in as callables."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from baobei.core.errors import FieldViolation
from services.registry import cel, uscc

FIELD_TYPES = (
    "text", "textarea", "number", "money", "date", "select", "multiselect",
    "phone", "email", "uscc", "user", "department", "attachment",
)
FORM_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")
FIELD_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
PHONE = re.compile(r"1[3-9]\d{9}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
BOUNDED_TYPES = ("number", "money", "date")
CENT = Decimal("0.01")
CONFLICT_POLICIES = ("warn", "block")
RULE_PATH = re.compile(r"(fields\.[A-Za-z0-9_][A-Za-z0-9_-]*|name|amount|region|business_line|start_date|end_date"
                       r"|customer\.(name|uscc|contact|phone))")
MAX_PROTECTION_DAYS = 3650
# The fixed project fields a form may read-restrict ("customer" covers all four customer paths).
CUSTOMER_PATHS = ("customer.name", "customer.uscc", "customer.contact", "customer.phone")
RESTRICTABLE_CORE = ("amount", "customer", "customer.uscc", "customer.contact", "customer.phone", "region",
                     "business_line", "start_date", "end_date")


@dataclass(frozen=True)
class FormSettings:
    """Form-level behaviour: collisions warn or block; protection period (保护期) in days after
    approval, extended per follow-up up to a cap (days from the start), owner reminded before expiry."""

    conflict_policy: str = "warn"
    protection_days: int = 0
    protection_extend_days: int = 0
    protection_max_days: int = 0
    protection_remind_days: int = 0
    # (core field, read roles) pairs in the order given: who may read amount, customer, region, …
    core_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "conflict_policy": self.conflict_policy, "protection_days": self.protection_days,
            "protection_extend_days": self.protection_extend_days, "protection_max_days": self.protection_max_days,
            "protection_remind_days": self.protection_remind_days,
        }
        # Only when set, so definitions stored before core restrictions compare equal.
        if self.core_fields:
            out["core_fields"] = {name: {"read_roles": list(roles)} for name, roles in self.core_fields}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> FormSettings:
        data = data or {}
        return cls(
            conflict_policy=data.get("conflict_policy") or "warn",
            protection_days=int(data.get("protection_days") or 0),
            protection_extend_days=int(data.get("protection_extend_days") or 0),
            protection_max_days=int(data.get("protection_max_days") or 0),
            protection_remind_days=int(data.get("protection_remind_days") or 0),
            core_fields=tuple((str(name), tuple(spec.get("read_roles") or ()))
                              for name, spec in (data.get("core_fields") or {}).items()),
        )

    def core_hidden(self, roles: set[str]) -> set[str]:
        """Core paths (amount, customer.phone, …) a holder of ``roles`` may not read."""
        out: set[str] = set()
        for name, read_roles in self.core_fields:
            if read_roles and not roles.intersection(read_roles):
                out.update(CUSTOMER_PATHS if name == "customer" else (name,))
        return out

    @property
    def cap_days(self) -> int:
        return max(self.protection_max_days, self.protection_days)


@dataclass(frozen=True)
class FormRule:
    """Cross-field check: ``expr`` must hold, else ``message`` at ``field``."""

    expr: str
    field: str = ""
    message: str = ""
    message_en: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"expr": self.expr, "field": self.field, "message": self.message, "message_en": self.message_en}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FormRule:
        return cls(expr=data.get("expr", ""), field=data.get("field", ""), message=data.get("message", ""),
                   message_en=data.get("message_en", ""))


@dataclass(frozen=True)
class FormField:
    key: str
    label: str = ""
    type: str = "text"
    required: bool = False
    options: tuple[str, ...] = ()
    min: str | None = None
    max: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    read_roles: tuple[str, ...] = ()
    write_roles: tuple[str, ...] = ()
    required_when: str | None = None
    visible_when: str | None = None
    default: Any = None
    accept: tuple[str, ...] = ()
    max_size: int | None = None

    def as_json(self) -> dict[str, Any]:
        """Canonical JSON (stored, and compared to decide whether a PUT makes a new version)."""
        out = {
            "key": self.key, "label": self.label, "type": self.type, "required": self.required,
            "options": list(self.options), "min": self.min, "max": self.max,
            "min_length": self.min_length, "max_length": self.max_length, "pattern": self.pattern,
            "read_roles": list(self.read_roles), "write_roles": list(self.write_roles),
        }
        # Newer keys only when set, so definitions stored before them compare equal.
        for name in ("required_when", "visible_when", "default", "max_size"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.accept:
            out["accept"] = list(self.accept)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FormField:
        return cls(
            key=data["key"], label=data.get("label", ""), type=data.get("type", "text"),
            required=bool(data.get("required", False)), options=tuple(data.get("options") or ()),
            min=data.get("min"), max=data.get("max"), min_length=data.get("min_length"),
            max_length=data.get("max_length"), pattern=data.get("pattern"),
            read_roles=tuple(data.get("read_roles") or ()), write_roles=tuple(data.get("write_roles") or ()),
            required_when=data.get("required_when"), visible_when=data.get("visible_when"),
            default=data.get("default"), accept=tuple(data.get("accept") or ()), max_size=data.get("max_size"),
        )


@dataclass(frozen=True)
class FormDef:
    key: str
    title: str
    fields: tuple[FormField, ...]
    version: int = 0
    created_at: Any = None
    settings: FormSettings = FormSettings()
    rules: tuple[FormRule, ...] = ()

    def definition(self) -> dict[str, Any]:
        return {
            "title": self.title, "fields": [f.as_json() for f in self.fields],
            "settings": self.settings.as_json(), "rules": [r.as_json() for r in self.rules],
        }

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)


def _v(path: str, zh: str, en: str) -> FieldViolation:
    return FieldViolation(path, zh, en)


# ---------- parsing helpers (shared with project validation) ----------


def parse_decimal(value: Any) -> Decimal | None:
    """A finite Decimal from a string or a JSON number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, int | str):
        try:
            d = Decimal(str(value).strip())
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def has_cents_only(d: Decimal) -> bool:
    try:
        return d == d.quantize(CENT)
    except InvalidOperation:  # too many digits for the context: not an amount we keep
        return False


MONEY_LIMIT = Decimal(10) ** 16


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _bound(kind: str, text: str) -> Decimal | date | None:
    return parse_date(text) if kind == "date" else parse_decimal(text)


# ---------- form definitions ----------


def validate_form(
    key: str, title: str, fields: list[FormField], settings: FormSettings | None = None,
    rules: list[FormRule] | tuple[FormRule, ...] = (),
) -> list[FieldViolation]:
    """Everything wrong with a form definition, with paths like ``fields[2].pattern``."""
    out: list[FieldViolation] = []
    out.extend(_validate_settings(settings or FormSettings()))
    for i, r in enumerate(rules):
        out.extend(_validate_cel(f"rules[{i}].expr", r.expr))
        if r.field and not RULE_PATH.fullmatch(r.field):
            out.append(_v(f"rules[{i}].field", "规则字段路径无效（例如 fields.end_date）",
                          "rule field must be a path such as fields.end_date"))
        elif r.field.startswith("fields.") and r.field[7:] not in {f.key for f in fields}:
            out.append(_v(f"rules[{i}].field", f"表单没有字段 {r.field[7:]}", f"the form has no field {r.field[7:]}"))
        if not r.message.strip():
            out.append(_v(f"rules[{i}].message", "规则需要提示信息", "a rule needs a message"))
    if not FORM_KEY.fullmatch(key or ""):
        out.append(_v("key", "表单标识只能包含小写字母、数字、下划线和连字符，且以字母或数字开头",
                      "form key must match [a-z0-9][a-z0-9_-]*"))
    if not title.strip():
        out.append(_v("title", "表单标题为必填项", "title is required"))
    if not fields:
        out.append(_v("fields", "表单至少需要一个字段", "a form needs at least one field"))
    seen: set[str] = set()
    for i, f in enumerate(fields):
        p = f"fields[{i}]"
        if not f.key:
            out.append(_v(f"{p}.key", "字段标识为必填项", "field key is required"))
        elif not FIELD_KEY.fullmatch(f.key):
            out.append(_v(f"{p}.key", "字段标识只能包含字母、数字、下划线和连字符",
                          "field key may contain only letters, digits, '_' and '-'"))
        elif f.key in seen:
            out.append(_v(f"{p}.key", f"字段标识 {f.key} 重复", f"duplicate field key {f.key}"))
        seen.add(f.key)
        if f.type not in FIELD_TYPES:
            out.append(_v(f"{p}.type", f"未知的字段类型 {f.type!r}", f"unknown field type {f.type!r}"))
        if f.type in ("select", "multiselect"):
            if not f.options:
                out.append(_v(f"{p}.options", "选择类字段需要选项", "select fields need options"))
            elif any(not o for o in f.options) or len(set(f.options)) != len(f.options):
                out.append(_v(f"{p}.options", "选项不能为空或重复", "options must be non-empty and unique"))
        out.extend(_validate_bounds(p, f))
        for name in ("min_length", "max_length"):
            n = getattr(f, name)
            if n is not None and n < 0:
                out.append(_v(f"{p}.{name}", "长度限制不能为负数", f"{name} must not be negative"))
        if f.min_length is not None and f.max_length is not None and 0 <= f.max_length < f.min_length:
            out.append(_v(f"{p}.min_length", "最小长度不能大于最大长度", "min_length must not exceed max_length"))
        if f.pattern is not None:
            try:
                re.compile(f.pattern)
            except (re.error, RecursionError, OverflowError) as err:
                out.append(_v(f"{p}.pattern", f"正则表达式无效：{err}", f"invalid regular expression: {err}"))
        for name in ("required_when", "visible_when"):
            expr = getattr(f, name)
            if expr is not None:
                out.extend(_validate_cel(f"{p}.{name}", expr))
        if f.max_size is not None and f.max_size <= 0:
            out.append(_v(f"{p}.max_size", "附件大小上限必须为正数", "max_size must be positive"))
        if (f.accept or f.max_size is not None) and f.type != "attachment":
            out.append(_v(f"{p}.accept", "只有附件字段可以设置 accept/max_size",
                          "accept/max_size apply to attachments"))
        if f.default is not None and f.type in FIELD_TYPES and f.type not in ("user", "department", "attachment"):
            try:
                problem, _ = _check_value(f, f.default, lambda _u: True, lambda _d: True, None)
            except (re.error, RecursionError, OverflowError):
                problem = None  # the bad pattern is reported above
            if problem:
                out.append(_v(f"{p}.default", f"默认值无效：{problem[0]}", f"invalid default: {problem[1]}"))
    return out


def _validate_cel(path: str, expr: str) -> list[FieldViolation]:
    why = cel.problem(expr)
    return [_v(path, f"CEL 表达式无效：{why}", f"invalid CEL expression: {why}")] if why else []


def _validate_settings(st: FormSettings) -> list[FieldViolation]:
    out: list[FieldViolation] = []
    if st.conflict_policy not in CONFLICT_POLICIES:
        out.append(_v("settings.conflict_policy", "撞单策略只能是 warn 或 block",
                      "conflict_policy must be warn or block"))
    for name in ("protection_days", "protection_extend_days", "protection_max_days", "protection_remind_days"):
        n = getattr(st, name)
        if n < 0 or n > MAX_PROTECTION_DAYS:
            out.append(_v(f"settings.{name}", f"天数必须在 0 到 {MAX_PROTECTION_DAYS} 之间",
                          f"{name} must be between 0 and {MAX_PROTECTION_DAYS}"))
    seen: set[str] = set()
    for name, roles in st.core_fields:
        path = f"core_fields.{name}"
        if name not in RESTRICTABLE_CORE:
            out.append(_v(path, f"不能限制 {name} 的读取（可选：{'、'.join(RESTRICTABLE_CORE)}）",
                          f"{name} cannot be read-restricted (one of {', '.join(RESTRICTABLE_CORE)})"))
        elif name in seen:
            out.append(_v(path, f"{name} 重复", f"duplicate core field {name}"))
        seen.add(name)
        if not roles or any(not isinstance(r, str) or not r.strip() for r in roles):
            out.append(_v(f"{path}.read_roles", "需要至少一个非空角色", "needs at least one non-empty role"))
    if st.protection_max_days and st.protection_max_days < st.protection_days:
        out.append(_v("settings.protection_max_days", "保护期上限不能小于保护期",
                      "protection_max_days must not be less than protection_days"))
    if st.protection_days and st.protection_remind_days >= st.protection_days:
        out.append(_v("settings.protection_remind_days", "提醒提前天数必须小于保护期",
                      "protection_remind_days must be less than protection_days"))
    return out


def _validate_bounds(p: str, f: FormField) -> list[FieldViolation]:
    if f.min is None and f.max is None:
        return []
    if f.type not in BOUNDED_TYPES:
        path = f"{p}.min" if f.min is not None else f"{p}.max"
        return [_v(path, "只有数字、金额和日期字段可以设置最小/最大值", "min/max apply only to number, money and date")]
    out: list[FieldViolation] = []
    lo = hi = None
    for name in ("min", "max"):
        text = getattr(f, name)
        if text is None:
            continue
        value = _bound(f.type, text)
        if value is None:
            what_zh, what_en = ("ISO 日期", "an ISO date") if f.type == "date" else ("数字", "a number")
            out.append(_v(f"{p}.{name}", f"{name} 必须是{what_zh}", f"{name} must be {what_en}"))
        elif name == "min":
            lo = value
        else:
            hi = value
    if lo is not None and hi is not None and lo > hi:  # type: ignore[operator]
        out.append(_v(f"{p}.min", "最小值不能大于最大值", "min must not exceed max"))
    return out


# ---------- field values ----------


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def written_forbidden(form: FormDef, values: Mapping[str, Any], roles: set[str]) -> list[FieldViolation]:
    """Fields set in ``values`` whose ``write_roles`` the writer holds none of."""
    out = []
    for key, value in values.items():
        f = form.field(key)
        if f is None or not f.write_roles or is_empty(value):
            continue
        if not roles.intersection(f.write_roles):
            label = f.label or key
            out.append(_v(f"fields.{key}", f"无权填写字段 {label}", f"not allowed to set field {label}"))
    return out


def readable(f: FormField, roles: set[str]) -> bool:
    return not f.read_roles or bool(roles.intersection(f.read_roles))


def unreadable_paths(form: FormDef, roles: set[str]) -> set[str]:
    """Every path of ``form`` a holder of ``roles`` may not read: ``fields.<key>`` of fields whose
    read_roles they hold none of, and restricted core paths (``amount``, ``customer.phone``, …).
    The owner and admins are not asked: they read everything."""
    out = {f"fields.{f.key}" for f in form.fields if not readable(f, roles)}
    return out | form.settings.core_hidden(roles)


AttachmentLookup = Callable[[str], tuple[str, str, int] | None]


def validate_values(
    form: FormDef,
    values: Mapping[str, Any],
    *,
    user_exists: Callable[[str], bool],
    department_exists: Callable[[str], bool],
    attachment: AttachmentLookup | None = None,
    project: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], list[FieldViolation]]:
    """Check ``values`` against ``form``; returns the normalised values (empty ones dropped, money
    as a 2-place decimal string, defaults filled in, hidden fields dropped) and every violation, at
    most one per field (``fields.<key>``), plus the form's cross-field rules (CEL) over ``project``
    (the core fields) and the fields."""
    out: list[FieldViolation] = []
    clean: dict[str, Any] = {}
    for key in values:
        if form.field(key) is None:
            out.append(_v(f"fields.{key}", f"未知字段 {key}", f"unknown field {key}"))
    # Conditions see the submitted values with defaults applied (raw: they decide what to check).
    given = {f.key: values.get(f.key) if not is_empty(values.get(f.key)) else f.default for f in form.fields}
    given = {k: v for k, v in given.items() if v is not None}
    act: dict[str, Any]
    exprs = tuple(e for f in form.fields for e in (f.required_when, f.visible_when) if e)
    cache: dict[str, Any] = {}

    def cond(expr: str) -> bool | None:
        # The activation is built on first use only (most submissions fill their conditional fields).
        if "act" not in cache:
            cache["act"] = cel.activation(given, project or {}, cel.field_refs(exprs))
        return cel.holds(expr, cache["act"])

    for f in form.fields:
        path = f"fields.{f.key}"
        if f.visible_when and not cond(f.visible_when):
            continue  # hidden: neither required nor kept
        value = values.get(f.key)
        if is_empty(value) and f.default is not None:
            value = f.default
        label = f.label or f.key
        if is_empty(value):
            if f.required or (f.required_when and cond(f.required_when)):
                out.append(_v(path, f"{label} 为必填项", f"{label} is required"))
            continue
        problem, normalised = _check_value(f, value, user_exists, department_exists, attachment)
        if problem:
            out.append(_v(path, f"{label}：{problem[0]}", f"{label}: {problem[1]}"))
        else:
            clean[f.key] = normalised
    if form.rules and not out:
        act = cel.activation(clean, project or {}, cel.field_refs(tuple(r.expr for r in form.rules)))
        for r in form.rules:
            if cel.holds(r.expr, act) is False:
                out.append(_v(r.field or "fields", r.message, r.message_en or r.message))
    return clean, out


Problem = tuple[str, str] | None


def _check_attachment(f: FormField, value: Any, lookup: AttachmentLookup | None) -> tuple[Problem, Any]:
    """An attachment field holds one id or a list of ids from the upload endpoint."""
    ids = value if isinstance(value, list) else [value]
    if not ids or not all(isinstance(i, str) and i.strip() for i in ids):
        return ("必须是附件 ID", "must be attachment ids"), None
    ids = [i.strip() for i in ids]
    for att_id in ids:
        info = lookup(att_id) if lookup else None
        if info is None:
            return (f"附件 {att_id} 不存在", f"unknown attachment {att_id}"), None
        filename, content_type, size = info
        if f.max_size is not None and size > f.max_size:
            return (f"附件 {filename} 超过大小上限 {f.max_size} 字节", f"{filename} exceeds {f.max_size} bytes"), None
        if f.accept and not accepts(f.accept, filename, content_type):
            return (f"附件 {filename} 的类型不允许", f"file type of {filename} is not allowed"), None
    return None, ids if isinstance(value, list) else ids[0]


def accepts(accept: tuple[str, ...], filename: str, content_type: str) -> bool:
    name, ctype = filename.lower(), content_type.lower()
    for a in accept:
        a = a.lower().strip()
        if (a.startswith(".") and name.endswith(a)) or a == ctype or (a.endswith("/*") and ctype.startswith(a[:-1])):
            return True
    return False


def _check_value(
    f: FormField, value: Any, user_exists: Callable[[str], bool], department_exists: Callable[[str], bool],
    attachment: AttachmentLookup | None = None,
) -> tuple[Problem, Any]:
    t = f.type
    if t == "attachment":
        return _check_attachment(f, value, attachment)
    if t == "multiselect":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return ("必须是选项列表", "must be a list of options"), None
        bad = [v for v in value if v not in f.options]
        if bad:
            return (f"不在可选项中：{'、'.join(bad)}", f"not among the options: {', '.join(bad)}"), None
        return _check_length(f, len(value)), value
    if t in ("number", "money"):
        d = parse_decimal(value)
        if d is None:
            return (("必须是数字", "must be a number") if t == "number" else ("必须是金额", "must be an amount")), None
        if abs(d) >= MONEY_LIMIT:
            return ("数值过大", "value is too large"), None
        if t == "money" and not has_cents_only(d):
            return ("金额最多两位小数", "at most 2 decimal places"), None
        problem = _check_range(f, d)
        if problem:
            return problem, None
        if t == "money":
            return None, str(d.quantize(CENT))
        if isinstance(value, float) and value.is_integer():
            return None, int(value)
        return None, value
    if not isinstance(value, str):
        return ("必须是文本", "must be a string"), None
    text = value.strip()
    problem = _check_string(f, t, text, user_exists, department_exists)
    if problem is None:
        problem = _check_length(f, len(text))
    if problem is None and f.pattern is not None and re.fullmatch(f.pattern, text) is None:
        problem = ("格式不符合要求", "does not match the required pattern")
    if t == "uscc":
        text = uscc.normalise(text)
    return problem, (None if problem else text)


def _check_string(
    f: FormField, t: str, text: str, user_exists: Callable[[str], bool], department_exists: Callable[[str], bool]
) -> Problem:
    if t == "date":
        d = parse_date(text)
        if d is None:
            return "必须是 ISO 日期（YYYY-MM-DD）", "must be an ISO date (YYYY-MM-DD)"
        return _check_range(f, d)
    if t == "select" and text not in f.options:
        return "不在可选项中", "not among the options"
    if t == "phone" and not PHONE.fullmatch(text):
        return "必须是有效的中国大陆手机号", "must be a valid mainland-China mobile number"
    if t == "email" and not EMAIL.fullmatch(text):
        return "必须是有效的电子邮箱", "must be a valid e-mail address"
    if t == "uscc" and not uscc.is_valid(text):
        return "统一社会信用代码无效", "invalid unified social credit code"
    if t == "user" and not user_exists(text):
        return "用户不存在", "unknown user"
    if t == "department" and not department_exists(text):
        return "部门不存在", "unknown department"
    return None


def _check_range(f: FormField, value: Decimal | date) -> Problem:
    lo = _bound(f.type, f.min) if f.min is not None else None
    hi = _bound(f.type, f.max) if f.max is not None else None
    if lo is not None and value < lo:  # type: ignore[operator]
        return f"不能小于 {f.min}", f"must be at least {f.min}"
    if hi is not None and value > hi:  # type: ignore[operator]
        return f"不能大于 {f.max}", f"must be at most {f.max}"
    return None


def _check_length(f: FormField, n: int) -> Problem:
    if f.min_length is not None and n < f.min_length:
        return f"长度不能少于 {f.min_length}", f"length must be at least {f.min_length}"
    if f.max_length is not None and n > f.max_length:
        return f"长度不能超过 {f.max_length}", f"length must be at most {f.max_length}"
    return None
