"""What the 审批单 (``baobei.printing.approval_form``) prints for one viewer: the project as the
registry shows it to them (withheld paths in ``Project.hidden`` are left out entirely, label and
value), the form definition the project was filed with (labels, types), the approval instance's
record, and people and departments by name. This module only gathers and words; the layout is in
``baobei.printing``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import DomainError
from baobei.printing import approval_form as af
from baobei.printing import blocks
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.sheets.columns import status_label
from edge import mapping
from edge.auth import Principal
from edge.clients import Clients
from edge.spreadsheets import departments

# Actions that decide a step or end the approval: the last of them is when it was decided.
DECIDING = frozenset({"approve", "reject", "return", "withdraw", "cancel", "timeout"})
FINAL = frozenset({"approved", "rejected", "returned", "cancelled"})


Names = Callable[[str], str]


def _at(ts: timestamp_pb2.Timestamp) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else None


async def _names(clients: Clients, user_ids: Iterable[str]) -> dict[str, str]:
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    resp = await clients.registry.ListUsers(registry_pb2.ListUsersRequest(user_ids=ids))
    return {u.id: u.name or u.id for u in resp.users}


async def _department_names(clients: Clients, user: Principal) -> dict[str, str]:
    try:
        return dict(await departments(clients, user))
    except DomainError:  # a caller who may not read the tree still prints ids
        return {}


def _people(instance: approval_pb2.Instance, project: registry_pb2.Project, form: registry_pb2.Form) -> set[str]:
    ids = {project.owner_id}
    for d in [*instance.actions, *(d for s in instance.steps for d in s.decisions)]:
        ids |= {d.user_id, d.target_user_id, d.on_behalf_of}
    ids |= {c.user_id for c in instance.cc} | {u for s in instance.steps for u in s.cc}
    fields = mapping.struct_to_dict(project.fields) or {}
    for f in form.fields:
        if f.type == "user":
            value = fields.get(f.key)
            ids |= {str(v) for v in value} if isinstance(value, list) else {str(value or "")}
    return ids


async def build(
    clients: Clients, user: Principal, project: registry_pb2.Project, instance: approval_pb2.Instance
) -> af.ApprovalSheet:
    form_resp = await clients.registry.GetForm(
        registry_pb2.GetFormRequest(key=project.form_key, version=project.form_version))
    form = form_resp.form
    names, dept_names = await asyncio.gather(
        _names(clients, _people(instance, project, form)), _department_names(clients, user))

    def name(user_id: str) -> str:
        return names.get(user_id, user_id)

    hidden = set(project.hidden)
    facts = _facts(project, instance, name, dept_names)
    values = mapping.struct_to_dict(project.fields) or {}
    fields = [
        (f.label or f.key, text)
        for f in form.fields
        if f"fields.{f.key}" not in hidden and f.key in values
        and (text := af.field_text(f.type, values[f.key], user=name,
                                   department=lambda d: dept_names.get(d, d)))
    ]
    # One chronological record (the step column says where); stable for equal times.
    record = sorted(_record(instance, name), key=lambda e: e.at.timestamp() if e.at else 0.0)
    cc_ids = list(dict.fromkeys([c.user_id for c in instance.cc] + [u for s in instance.steps for u in s.cc]))
    inputs = mapping.struct_to_dict(instance.inputs) if instance.HasField("inputs") else None
    notes = ["本项目无需审批（表单的审批策略没有适用的环节）"] if (inputs or {}).get("no_approval") else []
    return af.ApprovalSheet(
        code=project.code, name=project.name, facts=facts, fields=fields, record=record,
        cc=[name(u) for u in cc_ids if u], result=instance.status, notes=notes,
    )


def _facts(project: registry_pb2.Project, instance: approval_pb2.Instance, name: Names,
           dept_names: dict[str, str]) -> list[tuple[str, str]]:
    hidden = set(project.hidden)
    c = project.customer
    status = registry_pb2.ProjectStatus.Name(project.status).removeprefix("PROJECT_STATUS_").lower()
    submitted = [h.at for h in project.history if h.event == "submitted"]
    decided = [d.at for s in instance.steps for d in s.decisions if d.action in DECIDING]
    decided += [d.at for d in instance.actions if d.action in DECIDING]
    moments = [at for t in decided if (at := _at(t)) is not None]
    decided_at = max(moments) if moments and instance.status in FINAL else None
    dates = " 至 ".join(d for path, d in (("start_date", project.start_date), ("end_date", project.end_date))
                       if d and path not in hidden)
    rows: list[tuple[str, str, str]] = [  # (path withheld by, label, value)
        ("", "项目编号", project.code),
        ("", "项目名称", project.name),
        ("customer.name", "客户名称", c.name),
        ("customer.uscc", "统一社会信用代码", c.uscc),
        ("customer.contact", "客户联系人", c.contact),
        ("customer.phone", "联系电话", c.phone),
        ("amount", "金额", af.money(project.amount) if project.amount else ""),
        ("", "负责人", name(project.owner_id)),
        ("", "部门", dept_names.get(project.department_id, project.department_id)),
        ("region", "区域", project.region),
        ("business_line", "业务线", project.business_line),
        ("", "起止日期", dates),
        ("", "状态", status_label(status, "zh")),
        ("", "提交时间", blocks.local_time(_at(submitted[-1]) if submitted else _at(instance.created_at))),
        ("", "审批完成时间", blocks.local_time(decided_at)),
    ]
    return [(label, value) for path, label, value in rows if value and not (path and path in hidden)]


def _record(instance: approval_pb2.Instance, name: Names) -> list[af.Entry]:

    def entry(step: str, d: approval_pb2.Decision) -> af.Entry:
        return af.Entry(step=step, actor=name(d.user_id) if d.user_id else "系统", action=d.action,
                        comment=d.comment, at=_at(d.at), auto=d.auto,
                        target=name(d.target_user_id) if d.target_user_id else "",
                        on_behalf_of=name(d.on_behalf_of) if d.on_behalf_of else "")

    out = [entry(s.name, d) for s in instance.steps for d in s.decisions]
    out += [entry("—", d) for d in instance.actions]
    return out
