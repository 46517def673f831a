"""The only place protobuf messages meet the contract's JSON (and back)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any

from google.protobuf import struct_pb2, timestamp_pb2
from google.protobuf.json_format import MessageToDict, ParseDict

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import schemas

_STATUS_PREFIX = "PROJECT_STATUS_"


def status_name(value: int) -> str:
    """``PROJECT_STATUS_PENDING_APPROVAL`` → ``pending_approval``."""
    name = registry_pb2.ProjectStatus.Name(value)
    return name[len(_STATUS_PREFIX) :].lower() if name.startswith(_STATUS_PREFIX) else name.lower()


def status_enum_name(name: str) -> str:
    """``pending_approval`` → ``PROJECT_STATUS_PENDING_APPROVAL`` (protobuf takes enum names)."""
    return _STATUS_PREFIX + name.upper()


def ts(value: timestamp_pb2.Timestamp) -> str | None:
    if not value.seconds and not value.nanos:
        return None
    return value.ToDatetime(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """Struct numbers are doubles: give integral ones back as ints."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def struct_to_dict(value: struct_pb2.Struct) -> dict[str, Any]:
    return _plain(MessageToDict(value)) if value.fields else {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**53 else float(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def dict_to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(_jsonable(value))
    return out


def _opt(text: str) -> str | None:
    return text or None


# ---- registry ----


def customer_out(c: registry_pb2.Customer) -> dict[str, Any]:
    # Empty values are unset or withheld from the caller (a form's core_fields read restriction).
    return {"name": _opt(c.name), "uscc": _opt(c.uscc), "contact": _opt(c.contact), "phone": _opt(c.phone)}


def project_summary(p: registry_pb2.Project) -> dict[str, Any]:
    return {
        "id": p.id,
        "code": p.code,
        "name": p.name,
        "status": status_name(p.status),
        "amount": _opt(p.amount),  # null when the caller may not read it
        "owner_id": p.owner_id,
        "department_id": _opt(p.department_id),
        "customer": customer_out(p.customer),
        "region": _opt(p.region),
        "business_line": _opt(p.business_line),
        "form_key": p.form_key,
        "created_at": ts(p.created_at),
        "updated_at": ts(p.updated_at),
    }


def history_out(h: registry_pb2.HistoryEntry) -> dict[str, Any]:
    data = struct_to_dict(h.data)
    return {**data, "at": ts(h.at), "actor": h.actor, "event": h.event}


def decision_out(d: approval_pb2.Decision, hidden: Collection[str] = ()) -> dict[str, Any]:
    data = struct_to_dict(d.data) if d.HasField("data") else None
    if data and isinstance(data.get("replanned"), str):
        data["replanned"] = readable_reason(data["replanned"], hidden)
    return {
        "user_id": d.user_id,
        "action": d.action,
        "comment": d.comment,
        "at": ts(d.at),
        "channel": d.channel or None,
        "auto": d.auto,
        "on_behalf_of": _opt(d.on_behalf_of),
        "target_user_id": _opt(d.target_user_id),
        "data": data,
    }


def cc_out(c: approval_pb2.CcRecord) -> dict[str, Any]:
    return {
        "id": c.id,
        "project_id": c.project_id,
        "step_index": c.step_index,
        "user_id": c.user_id,
        "by_user_id": c.by_user_id,
        "created_at": ts(c.created_at),
        "read_at": ts(c.read_at),
    }


# Approval inputs name the project's core values by these keys; each is withheld with its path.
_INPUT_CORE = {"amount": "amount", "region": "region", "business_line": "business_line"}


def readable_inputs(inputs: dict[str, Any] | None, hidden: Collection[str]) -> dict[str, Any] | None:
    """The approval's planning inputs without what the viewer may not read: ``hidden`` are the
    paths the registry withheld from them (``fields.<key>``, ``amount``, …). The one place the
    edge filters approval data; the registry's readable set for the viewer drives it."""
    if not inputs or not hidden:
        return inputs
    out = dict(inputs)
    project = out.get("project")
    if isinstance(project, dict):
        project = {k: v for k, v in project.items() if _INPUT_CORE.get(k) not in hidden}
        fields = project.get("fields")
        if isinstance(fields, dict):
            project["fields"] = {k: v for k, v in fields.items() if f"fields.{k}" not in hidden}
        out["project"] = project
    replanned = out.get("replanned")
    if isinstance(replanned, dict) and isinstance(replanned.get("reason"), str):
        out["replanned"] = {**replanned, "reason": readable_reason(replanned["reason"], hidden)}
    return out


def readable_reason(reason: str, hidden: Collection[str]) -> str:
    """A re-plan reason (``"amount 1.00 → 2.00; region 华东 → 华南"``) without the changes of values
    the viewer may not read: those parts only say that the value changed."""
    parts = []
    for part in reason.split("; "):
        key = part.split(" ", 1)[0]
        parts.append(f"{key} changed" if _INPUT_CORE.get(key) in hidden else part)
    return "; ".join(parts)


def forecast_out(f: approval_pb2.ForecastInstanceResponse) -> dict[str, Any] | None:
    if not f.available:
        return None
    return {
        "expected_at": ts(f.expected_at), "low_at": ts(f.low_at), "high_at": ts(f.high_at),
        "remaining_working_hours": round(f.remaining_hours, 1),
        "basis": [{"step": b.step, "level": b.level, "samples": b.samples} for b in f.basis],
    }


def approval_out(instance: approval_pb2.Instance | None, hidden: Collection[str] = ()) -> dict[str, Any]:
    """``hidden``: the paths of the project the caller may not read (``Project.hidden``)."""
    if instance is None or not instance.id:
        return {"status": None, "policy_key": None, "policy_version": None, "steps": []}
    inputs = readable_inputs(struct_to_dict(instance.inputs), hidden) if instance.HasField("inputs") else None
    replanned = (inputs or {}).get("replanned")
    return {
        "status": instance.status,
        "policy_key": instance.policy_key,
        "policy_version": instance.policy_version,
        "no_approval": bool((inputs or {}).get("no_approval")),
        "replanned": str(replanned.get("reason", "")) or None if isinstance(replanned, dict) else None,
        "steps": [
            {
                "name": s.name,
                "mode": s.mode,
                "status": s.status,
                "approvers": list(s.approvers),
                "decisions": [decision_out(d, hidden) for d in s.decisions],
                "opened_at": ts(s.opened_at),
                "due_at": ts(s.due_at),
                "sla": _opt(s.sla),
                "blocked": s.blocked,
                "cc": list(s.cc),
                "why": struct_to_dict(s.provenance) if s.HasField("provenance") else None,
            }
            for s in instance.steps
        ],
        "inputs": inputs,
        "cc": [cc_out(c) for c in instance.cc],
        "actions": [decision_out(d, hidden) for d in instance.actions],
    }


def project_out(p: registry_pb2.Project, instance: approval_pb2.Instance | None) -> dict[str, Any]:
    return {
        **project_summary(p),
        "start_date": _opt(p.start_date),
        "end_date": _opt(p.end_date),
        "fields": struct_to_dict(p.fields),
        "form_version": p.form_version,
        "version": p.version,
        "conflicts": [{"project_id": c.project_id, "reason": c.reason} for c in p.conflicts],
        "approval": approval_out(instance, p.hidden),
        "history": [history_out(h) for h in p.history],
        "protection": protection_out(p.protection),
    }


def protection_out(pr: registry_pb2.Protection) -> dict[str, Any]:
    return {
        "state": pr.state or "none",
        "since": ts(pr.since),
        "until": ts(pr.until),
        "cap": ts(pr.cap),
        "position": pr.position or None,
        "holder_project_id": _opt(pr.holder_project_id),
        "follow_ups": pr.follow_ups,
    }


def project_create_request(
    body: schemas.ProjectIn, *, request_id: str, owner_id: str, owner_is_admin: bool
) -> registry_pb2.CreateProjectRequest:
    return registry_pb2.CreateProjectRequest(
        request_id=request_id,
        owner_id=owner_id,
        owner_is_admin=owner_is_admin,
        form_key=body.form_key,
        name=body.name,
        customer=registry_pb2.Customer(
            name=body.customer.name,
            uscc=body.customer.uscc or "",
            contact=body.customer.contact or "",
            phone=body.customer.phone or "",
        ),
        amount=body.amount,
        region=body.region or "",
        business_line=body.business_line or "",
        start_date=body.start_date or "",
        end_date=body.end_date or "",
        fields=dict_to_struct(body.fields),
    )


def project_facts(body: schemas.ProjectIn) -> approval_pb2.ProjectFacts:
    return approval_pb2.ProjectFacts(
        form_key=body.form_key,
        name=body.name,
        amount=body.amount,
        region=body.region or "",
        business_line=body.business_line or "",
        fields=dict_to_struct(body.fields),
    )


# ---- forms ----


def form_field_in(f: schemas.FormFieldIn) -> registry_pb2.FormField:
    out = registry_pb2.FormField(
        key=f.key,
        label=f.label,
        type=f.type,
        required=f.required,
        options=[str(o) for o in f.options],
        read_roles=f.read_roles,
        write_roles=f.write_roles,
        accept=f.accept,
    )
    for name in ("min", "max", "min_length", "max_length", "pattern", "required_when", "visible_when", "max_size"):
        value = getattr(f, name)
        if value is not None:
            setattr(out, name, value)
    if f.default is not None:
        ParseDict(_jsonable(f.default), out.default_value)
    return out


def form_settings_in(
    s: schemas.FormSettingsIn, core_fields: Mapping[str, schemas.CoreFieldIn] | None = None
) -> registry_pb2.FormSettings:
    """The form's settings with its core-field read restrictions (validated by the registry)."""
    return registry_pb2.FormSettings(
        **s.model_dump(),
        core_fields=[registry_pb2.CoreFieldAccess(field=name, read_roles=c.read_roles)
                     for name, c in (core_fields or {}).items()],
    )


def form_rule_in(r: schemas.FormRuleIn) -> registry_pb2.FormRule:
    return registry_pb2.FormRule(expr=r.expr, field=r.field, message=r.message, message_en=r.message_en)


def form_out(form: registry_pb2.Form) -> dict[str, Any]:
    fields = []
    for f in form.fields:
        item: dict[str, Any] = {
            "key": f.key,
            "label": f.label,
            "type": f.type,
            "required": f.required,
            "options": list(f.options),
            "read_roles": list(f.read_roles),
            "write_roles": list(f.write_roles),
        }
        for name in ("min", "max", "min_length", "max_length", "pattern"):
            item[name] = getattr(f, name) if f.HasField(name) else None
        for name in ("required_when", "visible_when", "max_size"):
            if f.HasField(name):
                item[name] = getattr(f, name)
        if f.HasField("default_value"):
            item["default"] = _plain(MessageToDict(f.default_value))
        if f.accept:
            item["accept"] = list(f.accept)
        fields.append(item)
    return {
        "key": form.key,
        "title": form.title,
        "version": form.version,
        "fields": fields,
        "created_at": ts(form.created_at),
        "settings": {
            **{k: v for k, v in MessageToDict(form.settings, preserving_proto_field_name=True,
                                              always_print_fields_with_no_presence=True).items()
               if k != "core_fields"},
            "conflict_policy": form.settings.conflict_policy or "warn",
        },
        "core_fields": {c.field: {"read_roles": list(c.read_roles)} for c in form.settings.core_fields},
        "rules": [MessageToDict(r, preserving_proto_field_name=True) for r in form.rules],
    }


# ---- approval ----


def approvers_in(a: schemas.ApproversIn | None) -> approval_pb2.Approvers | None:
    if a is None:
        return None
    return approval_pb2.Approvers(
        type=a.type,
        user_id=a.user_id or "",
        role=a.role or "",
        scope=a.scope or "",
        level=a.level or 0,
        until_role=a.until_role or "",
        department_id=a.department_id or "",
    )


def policy_step_in(s: schemas.PolicyStepIn) -> approval_pb2.PolicyStep:
    step = approval_pb2.PolicyStep(
        name=s.name,
        when=s.when or "",
        approvers=approvers_in(s.approvers),
        mode=s.mode,
        sla=s.sla or "",
        on_timeout=s.on_timeout or "",
        min_approvals=s.min_approvals or 0,
        ratio=s.ratio or 0.0,
        remind_at=s.remind_at or 0.0,
        escalation=[
            approval_pb2.LadderLevel(after=lv.after, action=lv.action, to=approvers_in(lv.to)) for lv in s.escalation
        ],
        cc=[c for c in (approvers_in(a) for a in s.cc) if c is not None],
    )
    escalate_to = approvers_in(s.escalate_to)
    if escalate_to is not None:
        step.escalate_to.CopyFrom(escalate_to)
    return step


def policy_options_in(p: schemas.PolicyIn) -> approval_pb2.PolicyOptions:
    return approval_pb2.PolicyOptions(
        default_steps=[policy_step_in(s) for s in p.default_steps],
        on_no_approver=p.on_no_approver,
        approval_admin=p.approval_admin or "",
        on_submitter_is_approver=p.on_submitter_is_approver or "",
        auto_approve_consecutive=p.auto_approve_consecutive,
        no_approval=p.no_approval,
    )


def simulated_step_out(s: approval_pb2.PlannedStep) -> dict[str, Any]:
    return {
        "name": s.name,
        "mode": s.mode,
        "approvers": list(s.approvers),
        "sla": _opt(s.sla),
        "blocked": s.blocked,
        "cc": list(s.cc),
        "why": struct_to_dict(s.provenance) if s.HasField("provenance") else None,
    }


def todo_out(t: approval_pb2.ApprovalTask) -> dict[str, Any]:
    return {
        "id": t.id,
        "project_id": t.project_id,
        "step": t.step_name,
        "opened_at": ts(t.created_at),
        "due_at": ts(t.due_at),
        "on_behalf_of": _opt(t.on_behalf_of),
        "purpose": t.purpose or "registration",
    }


# ---- notify ----


def notification_out(n: notify_pb2.Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "project_id": _opt(n.project_id),
        "action_url": _opt(n.action_url),
        "task_id": _opt(n.task_id),
        "created_at": ts(n.created_at),
        "read": n.read,
        "read_at": ts(n.read_at) if n.HasField("read_at") else None,
    }
