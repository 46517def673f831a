"""The only place protobuf messages meet registry domain objects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2, timestamp_pb2

from baobei.registry.v1 import registry_service_pb2 as pb
from services.registry.access import AccessToken, OrgActor, Refusal
from services.registry.domain import (
    Customer,
    Department,
    HistoryEntry,
    Project,
    ProjectInput,
    ProtectionInfo,
    Status,
    User,
    Viewer,
)
from services.registry.domain.import_jobs import ImportJob
from services.registry.domain.imports import RowChange
from services.registry.forms import FormDef, FormField, FormRule, FormSettings

_STATUS_TO_PB: dict[Status, pb.ProjectStatus] = {
    s: pb.ProjectStatus.Value(f"PROJECT_STATUS_{s.name}") for s in Status  # type: ignore[misc]
}
_STATUS_FROM_PB = {v: k for k, v in _STATUS_TO_PB.items()}


def status_to_pb(status: Status) -> pb.ProjectStatus:
    return _STATUS_TO_PB[status]


def status_from_pb(value: int) -> Status | None:
    """None for PROJECT_STATUS_UNSPECIFIED (and unknown numbers)."""
    for number, status in _STATUS_FROM_PB.items():
        if number == value:
            return status
    return None


def _value(v: struct_pb2.Value) -> Any:
    kind = v.WhichOneof("kind")
    if kind == "struct_value":
        return struct_to_dict(v.struct_value)
    if kind == "list_value":
        return [_value(x) for x in v.list_value.values]
    if kind == "number_value":
        n = v.number_value
        # NaN / ±inf are not JSON numbers: keep them as text so validation refuses them (not a 500).
        return n if n == n and abs(n) != float("inf") else str(n)
    if kind in ("string_value", "bool_value"):
        return getattr(v, kind)
    return None


def struct_to_dict(s: struct_pb2.Struct) -> dict[str, Any]:
    return {k: _value(v) for k, v in s.fields.items()}


def dict_to_struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def ts(dt: Any) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    if dt is not None:
        t.FromDatetime(dt)
    return t


# ---------- org ----------


def department_from_pb(d: pb.Department) -> Department:
    return Department(
        id=d.id.strip(), name=d.name.strip(), parent_id=d.parent_id.strip(), manager_id=d.manager_id.strip()
    )


# User.left (org sync marks departed users) — read and written only when the generated code has it.
USER_HAS_LEFT = "left" in pb.User.DESCRIPTOR.fields_by_name


def user_from_pb(u: pb.User) -> User:
    return User(
        id=u.id.strip(), name=u.name.strip(), email=u.email.strip(), mobile=u.mobile.strip(),
        department_id=u.department_id.strip(), roles=tuple(r.strip() for r in u.roles if r.strip()),
        region=u.region.strip(), left=bool(getattr(u, "left", False)),
    )


def user_to_pb(u: User) -> pb.User:
    out = pb.User(
        id=u.id, name=u.name, email=u.email, mobile=u.mobile, department_id=u.department_id, roles=list(u.roles),
        region=u.region,
    )
    if USER_HAS_LEFT:
        setattr(out, "left", u.left)  # noqa: B010 - the field may be missing from older generated code
    return out


def ts_or_none(t: timestamp_pb2.Timestamp) -> datetime | None:
    """An unset Timestamp → None (the callee's clock applies)."""
    return t.ToDatetime(tzinfo=UTC) if t.seconds or t.nanos else None


def access_token_to_pb(t: AccessToken) -> pb.AccessToken:
    out = pb.AccessToken(id=t.id, user_id=t.user_id, name=t.name, scopes=list(t.scopes),
                         created_at=ts(t.created_at), expires_at=ts(t.expires_at))
    if t.last_used_at is not None:
        out.last_used_at.CopyFrom(ts(t.last_used_at))
    return out


def org_actor_from_pb(request: pb.UpsertOrgRequest) -> OrgActor | None:
    if not request.HasField("actor") or not request.actor.user_id.strip():
        return None
    a = request.actor
    return OrgActor(user_id=a.user_id.strip(), roles=tuple(r.strip() for r in a.roles), is_admin=a.is_admin)


def refusal_to_pb(r: Refusal) -> pb.OrgRefusal:
    return pb.OrgRefusal(field=r.field, code=r.code, message_zh=r.zh, message_en=r.en, user_id=r.user_id,
                         department_id=r.department_id)


# ---------- forms ----------


def field_from_pb(f: pb.FormField) -> FormField:
    return FormField(
        key=f.key.strip(), label=f.label.strip(), type=f.type.strip(), required=f.required, options=tuple(f.options),
        min=f.min if f.HasField("min") else None,
        max=f.max if f.HasField("max") else None,
        min_length=f.min_length if f.HasField("min_length") else None,
        max_length=f.max_length if f.HasField("max_length") else None,
        pattern=f.pattern if f.HasField("pattern") else None,
        read_roles=tuple(f.read_roles), write_roles=tuple(f.write_roles),
        required_when=f.required_when if f.HasField("required_when") else None,
        visible_when=f.visible_when if f.HasField("visible_when") else None,
        default=_plain_value(f.default_value) if f.HasField("default_value") else None,
        accept=tuple(f.accept), max_size=f.max_size if f.HasField("max_size") else None,
    )


def _plain_value(v: struct_pb2.Value) -> Any:
    value = json_format.MessageToDict(v)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def settings_from_pb(s: pb.FormSettings) -> FormSettings:
    return FormSettings(
        conflict_policy=s.conflict_policy.strip() or "warn", protection_days=s.protection_days,
        protection_extend_days=s.protection_extend_days, protection_max_days=s.protection_max_days,
        protection_remind_days=s.protection_remind_days,
        core_fields=tuple((c.field.strip(), tuple(r.strip() for r in c.read_roles)) for c in s.core_fields),
    )


def settings_to_pb(s: FormSettings) -> pb.FormSettings:
    plain = s.as_json()
    plain.pop("core_fields", None)
    return pb.FormSettings(**plain, core_fields=[pb.CoreFieldAccess(field=name, read_roles=list(roles))
                                                 for name, roles in s.core_fields])


def rule_from_pb(r: pb.FormRule) -> FormRule:
    return FormRule(expr=r.expr, field=r.field.strip(), message=r.message, message_en=r.message_en)


def field_to_pb(f: FormField) -> pb.FormField:
    out = pb.FormField(
        key=f.key, label=f.label, type=f.type, required=f.required, options=list(f.options),
        read_roles=list(f.read_roles), write_roles=list(f.write_roles),
    )
    for name in ("min", "max", "min_length", "max_length", "pattern", "required_when", "visible_when", "max_size"):
        value = getattr(f, name)
        if value is not None:
            setattr(out, name, value)
    out.accept.extend(f.accept)
    if f.default is not None:
        json_format.ParseDict(f.default, out.default_value)
    return out


def form_to_pb(form: FormDef) -> pb.Form:
    return pb.Form(
        key=form.key, title=form.title, version=form.version, fields=[field_to_pb(f) for f in form.fields],
        created_at=ts(form.created_at), settings=settings_to_pb(form.settings),
        rules=[pb.FormRule(**r.as_json()) for r in form.rules],
    )


# ---------- projects ----------


def project_input_from_pb(r: pb.CreateProjectRequest) -> ProjectInput:
    c = r.customer
    return ProjectInput(
        owner_id=r.owner_id.strip(), form_key=r.form_key.strip(), name=r.name,
        customer=Customer(name=c.name, uscc=c.uscc, contact=c.contact, phone=c.phone),
        amount=r.amount, region=r.region, business_line=r.business_line, start_date=r.start_date,
        end_date=r.end_date, fields=struct_to_dict(r.fields), owner_is_admin=r.owner_is_admin,
        external_source=r.external_source.strip(), external_id=r.external_id.strip(),
    )


def viewer_from_pb(holder: Any) -> Viewer | None:
    """The request's viewer, or None when unset (internal caller)."""
    if not holder.HasField("viewer"):
        return None
    v = holder.viewer
    return Viewer(
        user_id=v.user_id, is_admin=v.is_admin, roles=frozenset(v.roles),
        approver_project_ids=frozenset(v.approver_project_ids),
        assignee_project_ids=frozenset(v.assignee_project_ids),
    )


def history_to_pb(h: HistoryEntry) -> pb.HistoryEntry:
    return pb.HistoryEntry(at=ts(h.at), actor=h.actor, event=h.event, data=dict_to_struct(h.data))


def project_to_pb(p: Project, *, with_history: bool = True, with_conflicts: bool = True) -> pb.Project:
    """``with_history`` / ``with_conflicts`` False for lists and notification reads: the history
    and the conflict list grow without bound; ``conflict_count`` is always exact."""
    return pb.Project(
        id=p.id, code=p.code, status=status_to_pb(p.status), name=p.name,
        customer=pb.Customer(name=p.customer.name, uscc=p.customer.uscc, contact=p.customer.contact,
                             phone=p.customer.phone),
        amount="" if "amount" in p.hidden else str(p.amount), region=p.region, business_line=p.business_line,
        start_date=p.start_date.isoformat() if p.start_date else "",
        end_date=p.end_date.isoformat() if p.end_date else "",
        fields=dict_to_struct(p.fields), form_key=p.form_key, form_version=p.form_version, owner_id=p.owner_id,
        department_id=p.department_id,
        conflicts=[pb.Conflict(project_id=c.project_id, reason=c.reason, score=c.score) for c in p.conflicts]
        if with_conflicts else [],
        conflict_count=len(p.conflicts),
        history=[history_to_pb(h) for h in p.history] if with_history else [],
        version=p.version, created_at=ts(p.created_at), updated_at=ts(p.updated_at),
        protection=protection_to_pb(p.protection), external_source=p.external_source, external_id=p.external_id,
        hidden=sorted(p.hidden),
    )


def protection_to_pb(pr: ProtectionInfo) -> pb.Protection:
    out = pb.Protection(
        state=pr.state.value or "none", position=pr.position, holder_project_id=pr.holder_project_id,
        follow_ups=pr.follow_ups,
    )
    for name in ("since", "until", "cap"):
        value = getattr(pr, name)
        if value is not None:
            getattr(out, name).FromDatetime(value)
    return out


def import_job_to_pb(job: ImportJob, locale: str) -> pb.ImportJob:
    out = pb.ImportJob(
        id=job.id, status=job.status.value, form_key=job.form_key, actor_id=job.actor_id, filename=job.filename,
        dry_run=job.dry_run, skip_invalid=job.skip_invalid, rows_total=job.rows_total,
        rows_checked=job.rows_checked, rows_done=job.rows_done, created=job.created, existing=job.existing,
        invalid=job.invalid, project_ids=job.project_ids, attempts=job.attempts,
        reason=job.reason_en if locale == "en" and job.reason_en else job.reason_zh,
        lifecycles_started=job.lifecycles_started, created_at=ts(job.created_at), updated_at=ts(job.updated_at),
        errors=[pb.ImportRowError(row=e["row"], column=e["column"], field=e["field"],
                                  message=e["en"] if locale == "en" and e.get("en") else e["zh"])
                for e in job.errors],
        updated=job.updated, unchanged=job.unchanged, updated_ids=job.updated_ids, changes_total=job.changes_total,
        changes=[_change_to_pb(RowChange(**c), locale) for c in job.changes],
    )
    if job.finished_at is not None:
        out.finished_at.CopyFrom(ts(job.finished_at))
    return out


def _change_to_pb(c: RowChange, locale: str) -> pb.ImportRowChange:
    return pb.ImportRowChange(row=c.row, column=c.column, field=c.field, before=c.before, after=c.after,
                              message=c.text(locale), kind=c.kind)
