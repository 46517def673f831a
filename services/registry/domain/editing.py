"""Editing a filed registration: when it may be edited, which changes are allowed, the input the
edit amounts to, and what changed (for the history). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from baobei.core.errors import Conflict, FieldViolation
from services.registry.domain.projects import Customer, Project, ProjectInput
from services.registry.domain.status import Status
from services.registry.forms import FormDef, written_forbidden

EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
CORE_KEYS = ("name", "amount", "region", "business_line", "start_date", "end_date")
CUSTOMER_KEYS = ("name", "uscc", "contact", "phone")


def check_editable(status: Status, *, version: int, expected_version: int) -> None:
    """409 stale_version unless ``expected_version`` is the current one, then 409 not_editable
    unless the project is a draft or returned."""
    if expected_version != version:
        raise Conflict(
            f"项目已被修改（当前版本 {version}），请刷新后重试",
            f"the project was changed meanwhile (current version {version}); reload and retry",
            code="stale_version",
        )
    if status not in EDITABLE:
        raise Conflict("只有草稿或退回的项目可以修改", "only draft or returned projects can be edited",
                       code="not_editable")


def change_violations(changes: Mapping[str, Any]) -> list[FieldViolation]:
    """Keys that cannot be changed, and ``customer`` / ``fields`` that are not objects."""
    unknown = [k for k in changes if k not in (*CORE_KEYS, "customer", "fields")]
    bad_shape = [k for k in ("customer", "fields") if k in changes and not isinstance(changes[k], dict | None)]
    return ([FieldViolation(k, f"不能修改 {k}", f"{k} cannot be changed") for k in unknown]
            + [FieldViolation(k, "必须是对象", "must be an object") for k in bad_shape])


def write_denied(form: FormDef | None, field_changes: Mapping[str, Any], roles: set[str]) -> list[FieldViolation]:
    """Field changes the roles may not make (setting or clearing a field with write_roles they
    lack). Admins are not held to this: the caller skips it for them."""
    if form is None:
        return []
    denied = written_forbidden(form, {k: v for k, v in field_changes.items() if v is not None}, roles)
    cleared = [k for k, v in field_changes.items() if v is None and (f := form.field(k)) is not None
               and f.write_roles and not roles.intersection(f.write_roles)]
    return denied + [FieldViolation(f"fields.{k}", f"无权修改字段 {k}", f"not allowed to change field {k}")
                     for k in cleared]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class Snapshotable(Protocol):
    """What a snapshot reads: a stored ``Project`` or a ``ValidProject``."""

    @property
    def name(self) -> str: ...

    @property
    def customer(self) -> Customer: ...

    @property
    def region(self) -> str: ...

    @property
    def business_line(self) -> str: ...

    @property
    def fields(self) -> dict[str, Any]: ...

    @property
    def amount(self) -> Any: ...

    @property
    def start_date(self) -> Any: ...

    @property
    def end_date(self) -> Any: ...


def snapshot(p: Snapshotable) -> dict[str, Any]:
    """The editable values as text by path (``customer.name``, ``fields.<key>``, …)."""
    out: dict[str, Any] = {
        "name": p.name, "amount": str(p.amount), "region": p.region, "business_line": p.business_line,
        "start_date": p.start_date.isoformat() if p.start_date else "",
        "end_date": p.end_date.isoformat() if p.end_date else "",
    }
    c = p.customer
    out.update({f"customer.{k}": v for k, v in (("name", c.name), ("uscc", c.uscc), ("contact", c.contact),
                                                 ("phone", c.phone))})
    out.update({f"fields.{k}": v for k, v in (p.fields or {}).items()})
    return out


def edited_input(project: Project, changes: Mapping[str, Any]) -> ProjectInput:
    """The whole input the project amounts to once ``changes`` apply (a field set to None is
    cleared), to be validated again against the form version it was filed with."""
    c = project.customer
    customer = {"name": c.name, "uscc": c.uscc, "contact": c.contact, "phone": c.phone}
    customer.update({k: _text(v) for k, v in (changes.get("customer") or {}).items() if k in CUSTOMER_KEYS})
    values = dict(project.fields or {})
    for k, v in dict(changes.get("fields") or {}).items():
        if v is None:
            values.pop(k, None)
        else:
            values[k] = v
    core = snapshot(project)
    core.update({k: _text(changes[k]) for k in CORE_KEYS if k in changes})
    return ProjectInput(
        owner_id=project.owner_id, form_key=project.form_key, name=core["name"], customer=Customer(**customer),
        amount=core["amount"], region=core["region"], business_line=core["business_line"],
        start_date=core["start_date"], end_date=core["end_date"], fields=values,
    )


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each changed path with its before and after (None: absent), sorted by path."""
    return [{"field": k, "before": before.get(k), "after": after.get(k)}
            for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)]
