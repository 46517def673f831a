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
from services.registry import uscc

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

    def as_json(self) -> dict[str, Any]:
        """Canonical JSON (stored, and compared to decide whether a PUT makes a new version)."""
        return {
            "key": self.key, "label": self.label, "type": self.type, "required": self.required,
            "options": list(self.options), "min": self.min, "max": self.max,
            "min_length": self.min_length, "max_length": self.max_length, "pattern": self.pattern,
            "read_roles": list(self.read_roles), "write_roles": list(self.write_roles),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FormField:
        return cls(
            key=data["key"], label=data.get("label", ""), type=data.get("type", "text"),
            required=bool(data.get("required", False)), options=tuple(data.get("options") or ()),
            min=data.get("min"), max=data.get("max"), min_length=data.get("min_length"),
            max_length=data.get("max_length"), pattern=data.get("pattern"),
            read_roles=tuple(data.get("read_roles") or ()), write_roles=tuple(data.get("write_roles") or ()),
        )


@dataclass(frozen=True)
class FormDef:
    key: str
    title: str
    fields: tuple[FormField, ...]
    version: int = 0
    created_at: Any = None

    def definition(self) -> dict[str, Any]:
        return {"title": self.title, "fields": [f.as_json() for f in self.fields]}

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
    return d == d.quantize(CENT)


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


def validate_form(key: str, title: str, fields: list[FormField]) -> list[FieldViolation]:
    """Everything wrong with a form definition, with paths like ``fields[2].pattern``."""
    out: list[FieldViolation] = []
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


def validate_values(
    form: FormDef,
    values: Mapping[str, Any],
    *,
    user_exists: Callable[[str], bool],
    department_exists: Callable[[str], bool],
) -> tuple[dict[str, Any], list[FieldViolation]]:
    """Check ``values`` against ``form``; returns the normalised values (empty ones dropped, money
    as a 2-place decimal string) and every violation, at most one per field (``fields.<key>``)."""
    out: list[FieldViolation] = []
    clean: dict[str, Any] = {}
    for key in values:
        if form.field(key) is None:
            out.append(_v(f"fields.{key}", f"未知字段 {key}", f"unknown field {key}"))
    for f in form.fields:
        path = f"fields.{f.key}"
        value = values.get(f.key)
        label = f.label or f.key
        if is_empty(value):
            if f.required:
                out.append(_v(path, f"{label} 为必填项", f"{label} is required"))
            continue
        problem, normalised = _check_value(f, value, user_exists, department_exists)
        if problem:
            out.append(_v(path, f"{label}：{problem[0]}", f"{label}: {problem[1]}"))
        else:
            clean[f.key] = normalised
    return clean, out


Problem = tuple[str, str] | None


def _check_value(
    f: FormField, value: Any, user_exists: Callable[[str], bool], department_exists: Callable[[str], bool]
) -> tuple[Problem, Any]:
    t = f.type
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
