"""Protobuf ↔ domain/model translation: the only module where approval protos meet the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from google.protobuf import json_format, struct_pb2, timestamp_pb2

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.workcalendar import Override
from services.approval import domain
from services.approval.models import (
    ApprovalCC,
    ApprovalDecision,
    ApprovalDelegation,
    ApprovalInstance,
    ApprovalStep,
    ApprovalTask,
    PolicyVersion,
)

# The domain's dataclasses and the table rows they are loaded from have the same fields.
# A task as the ORM, the domain or a plain row of the task table (the to-do list) holds it.
TaskRow = ApprovalTask | domain.Task | sa.Row[Any]
StepRow = ApprovalStep | domain.Step
DecisionRow = ApprovalDecision | domain.Decision
CcRow = ApprovalCC | domain.CcCopy
InstanceRow = ApprovalInstance | domain.Instance

_TASK_STATUS = {
    domain.TASK_PENDING: pb.TASK_STATUS_PENDING,
    domain.TASK_APPROVED: pb.TASK_STATUS_APPROVED,
    domain.TASK_REJECTED: pb.TASK_STATUS_REJECTED,
    domain.TASK_CLOSED: pb.TASK_STATUS_CLOSED,
    domain.TASK_WAITING: pb.TASK_STATUS_WAITING,
}


def utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they were stored as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timestamp(value: datetime | None) -> timestamp_pb2.Timestamp | None:
    if value is None:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(utc(value))
    return ts


# ---------------------------------------------------------------- requests → domain


def approvers_from_proto(msg: pb.Approvers, present: bool = True) -> domain.ApproverSpec | None:
    if not present or not msg.type.strip():
        return None
    return domain.ApproverSpec(
        type=msg.type,
        user_id=msg.user_id,
        role=msg.role,
        scope=msg.scope,
        level=msg.level,
        until_role=msg.until_role,
        department_id=msg.department_id,
    )


def steps_from_proto(steps: Sequence[pb.PolicyStep]) -> list[domain.StepSpec]:
    out = []
    for s in steps:
        out.append(
            domain.StepSpec(
                name=s.name,
                when=s.when,
                approvers=approvers_from_proto(s.approvers, s.HasField("approvers")) or domain.ApproverSpec(""),
                mode=s.mode,
                sla=s.sla,
                escalate_to=approvers_from_proto(s.escalate_to, s.HasField("escalate_to")),
                on_timeout=s.on_timeout,
                min_approvals=s.min_approvals,
                ratio=s.ratio,
                remind_at=s.remind_at,
                escalation=tuple(
                    domain.LadderLevel(lv.after, lv.action, approvers_from_proto(lv.to, lv.HasField("to")))
                    for lv in s.escalation
                ),
                cc=tuple(a for a in (approvers_from_proto(c) for c in s.cc) if a is not None),
            )
        )
    return domain.normalise_steps(out)


def options_from_proto(msg: pb.PolicyOptions) -> domain.PolicyOptions:
    return domain.normalise_options(
        domain.PolicyOptions(
            default_steps=tuple(steps_from_proto(msg.default_steps)),
            on_no_approver=msg.on_no_approver,
            approval_admin=msg.approval_admin,
            on_submitter_is_approver=msg.on_submitter_is_approver,
            auto_approve_consecutive=msg.auto_approve_consecutive if msg.HasField("auto_approve_consecutive") else True,
            no_approval=msg.no_approval,
        )
    )


def facts_from_proto(msg: pb.ProjectFacts, field_prefix: str = "project") -> domain.ProjectFacts:
    amount = domain.parse_amount(msg.amount)
    if amount is None:
        raise ValidationFailed(
            [FieldViolation(f"{field_prefix}.amount", "金额须为数字", "amount must be a decimal number")]
        )
    fields: dict[str, Any] = json_format.MessageToDict(msg.fields) if msg.HasField("fields") else {}
    return domain.ProjectFacts(
        project_id=msg.project_id,
        form_key=msg.form_key,
        name=msg.name,
        amount=amount,
        region=msg.region,
        business_line=msg.business_line,
        fields=fields,
        conflict_count=msg.conflict_count,
        conflicts=tuple({"project_id": c.project_id, "reason": c.reason} for c in msg.conflicts),
    )


# ---------------------------------------------------------------- domain/models → responses


def approvers_to_proto(a: domain.ApproverSpec | None) -> pb.Approvers | None:
    if a is None:
        return None
    return pb.Approvers(
        type=a.type,
        user_id=a.user_id,
        role=a.role,
        scope=a.scope,
        level=a.level,
        until_role=a.until_role,
        department_id=a.department_id,
    )


def policy_step_to_proto(s: domain.StepSpec) -> pb.PolicyStep:
    return pb.PolicyStep(
        name=s.name,
        when=s.when,
        approvers=approvers_to_proto(s.approvers),
        mode=s.mode,
        sla=s.sla,
        escalate_to=approvers_to_proto(s.escalate_to),
        on_timeout=s.on_timeout,
        min_approvals=s.min_approvals,
        ratio=s.ratio,
        remind_at=s.remind_at,
        escalation=[
            pb.LadderLevel(after=lv.after, action=lv.action, to=approvers_to_proto(lv.to)) for lv in s.escalation
        ],
        cc=[c for c in (approvers_to_proto(a) for a in s.cc) if c is not None],
    )


def options_to_proto(o: domain.PolicyOptions) -> pb.PolicyOptions:
    return pb.PolicyOptions(
        default_steps=[policy_step_to_proto(s) for s in o.default_steps],
        on_no_approver=o.on_no_approver,
        approval_admin=o.approval_admin,
        on_submitter_is_approver=o.on_submitter_is_approver,
        auto_approve_consecutive=o.auto_approve_consecutive,
        no_approval=o.no_approval,
    )


def policy_to_proto(row: PolicyVersion) -> pb.Policy:
    return pb.Policy(
        key=row.key,
        form_key=row.form_key,
        version=row.version,
        steps=[policy_step_to_proto(domain.StepSpec.from_dict(s)) for s in row.steps],
        created_at=timestamp(row.created_at),
        options=options_to_proto(domain.PolicyOptions.from_dict(row.options)),
    )


def struct(value: dict[str, Any] | None) -> struct_pb2.Struct | None:
    if value is None:
        return None
    out = struct_pb2.Struct()
    out.update(_jsonable(value))
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return value


def attachments_from_proto(value: struct_pb2.ListValue) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for item in json_format.MessageToDict(value) if value.values else []:
        if isinstance(item, dict):
            out.append({"name": str(item.get("name", "")), "url": str(item.get("url", ""))})
    return out


def planned_step_to_proto(s: domain.PlannedStep) -> pb.PlannedStep:
    return pb.PlannedStep(
        index=s.index,
        name=s.name,
        mode=s.mode,
        approvers=list(s.approvers),
        sla_seconds=s.sla_seconds,
        sla=s.sla,
        on_timeout=s.on_timeout,
        escalate_to=list(s.escalate_to),
        min_approvals=s.min_approvals,
        ratio=s.ratio,
        remind_at=s.remind_at,
        escalation=[
            pb.PlannedLevel(after=str(lv["after"]), action=str(lv["action"]), to=list(lv.get("to") or []))
            for lv in s.escalation
        ],
        cc=list(s.cc),
        blocked=s.blocked,
        self_approved=s.self_approved,
        provenance=struct(dict(s.provenance)),
    )


def stored_step_to_planned(row: StepRow) -> pb.PlannedStep:
    config = row.config or {}
    return pb.PlannedStep(
        index=row.step_index,
        name=row.name,
        mode=row.mode,
        approvers=list(row.approvers),
        sla_seconds=row.sla_seconds,
        sla=row.sla,
        on_timeout=row.on_timeout,
        escalate_to=list(row.escalate_to),
        min_approvals=int(config.get("min_approvals", 0) or 0),
        ratio=float(config.get("ratio", 0) or 0),
        remind_at=float(config.get("remind_at", 0) or 0),
        escalation=[
            pb.PlannedLevel(
                after=str(lv.get("after", "")), action=str(lv.get("action", "")), to=list(lv.get("to") or [])
            )
            for lv in config.get("escalation") or []
        ],
        cc=list(config.get("cc") or []),
        blocked=bool(config.get("blocked", False)),
        self_approved=bool(config.get("self_approved", False)),
        provenance=struct(row.provenance),
    )


def timer_to_proto(t: domain.Timer) -> pb.Timer:
    return pb.Timer(index=t.index, action=t.action, at=timestamp(t.at), level=t.level, to=list(t.to))


def cc_to_proto(row: CcRow) -> pb.CcRecord:
    return pb.CcRecord(
        id=row.id,
        instance_id=row.instance_id,
        project_id=row.project_id,
        step_index=row.step_index,
        user_id=row.user_id,
        by_user_id=row.by_user_id,
        created_at=timestamp(row.created_at),
        read_at=timestamp(row.read_at),
    )


def delegation_to_proto(row: ApprovalDelegation | None) -> pb.Delegation | None:
    if row is None:
        return None
    return pb.Delegation(
        user_id=row.user_id,
        delegate_id=row.delegate_id,
        starts_at=timestamp(row.starts_at),
        ends_at=timestamp(row.ends_at),
    )


def task_to_proto(row: TaskRow, on_behalf_of: str = "", purpose: tuple[str, str] = ("", "")) -> pb.ApprovalTask:
    """``purpose``: the (purpose, subject id) of the task's instance, when the caller read it."""
    return pb.ApprovalTask(
        purpose=purpose[0] or domain.PURPOSE_REGISTRATION,
        subject_id=purpose[1],
        id=row.id,
        instance_id=row.instance_id,
        project_id=row.project_id,
        step_index=row.step_index,
        step_name=row.step_name,
        approver_id=row.approver_id,
        status=_TASK_STATUS.get(row.status, pb.TASK_STATUS_UNSPECIFIED),
        due_at=timestamp(row.due_at),
        created_at=timestamp(row.created_at),
        kind=row.kind or domain.KIND_NORMAL,
        on_behalf_of=on_behalf_of,
        opened_at=timestamp(task_opened_at(row)),
    )


def task_opened_at(row: TaskRow) -> datetime | None:
    """Since when the task waits for its approver: None while held back (waiting); rows from before
    ``opened_at`` was kept opened when they were created."""
    if row.status == domain.TASK_WAITING:
        return None
    return row.opened_at or row.created_at


def decision_to_proto(row: DecisionRow) -> pb.Decision:
    return pb.Decision(
        user_id=row.user_id,
        action=row.action,
        comment=row.comment,
        at=timestamp(row.at),
        channel=row.channel,
        auto=row.auto,
        on_behalf_of=row.on_behalf_of or "",
        target_user_id=row.target_user_id or "",
        data=struct(row.data),
    )


def step_state_to_proto(
    row: StepRow, decisions: Sequence[DecisionRow], due_at: datetime | None = None
) -> pb.StepState:
    config = row.config or {}
    return pb.StepState(
        index=row.step_index,
        name=row.name,
        mode=row.mode,
        status=row.status,
        approvers=list(row.approvers),
        decisions=[decision_to_proto(d) for d in decisions],
        due_at=timestamp(due_at),
        provenance=struct(row.provenance),
        sla=row.sla,
        blocked=bool(config.get("blocked", False)),
        opened_at=timestamp(row.opened_at),
        cc=list(config.get("cc") or []),
    )


def instance_to_proto(
    row: InstanceRow,
    steps: Sequence[StepRow],
    decisions: Sequence[DecisionRow],
    cc: Sequence[CcRow] = (),
    dues: dict[int, datetime | None] | None = None,
) -> pb.Instance:
    by_step: dict[int, list[DecisionRow]] = {}
    loose: list[DecisionRow] = []
    indexes = {s.step_index for s in steps}
    for d in decisions:
        if d.step_index in indexes:
            by_step.setdefault(d.step_index, []).append(d)
        else:
            loose.append(d)
    return pb.Instance(
        id=row.id,
        project_id=row.project_id,
        policy_key=row.policy_key,
        policy_version=row.policy_version,
        status=row.status,
        steps=[step_state_to_proto(s, by_step.get(s.step_index, []), (dues or {}).get(s.step_index)) for s in steps],
        returned_step=row.returned_step,
        inputs=struct(row.inputs),
        created_at=timestamp(row.created_at),
        cc=[cc_to_proto(c) for c in cc],
        actions=[decision_to_proto(d) for d in loose],
        purpose=getattr(row, "purpose", "") or domain.PURPOSE_REGISTRATION,
        subject_id=getattr(row, "subject_id", "") or "",
    )


def override_to_proto(o: Override) -> pb.CalendarOverride:
    return pb.CalendarOverride(date=o.day.isoformat(), kind=o.kind, name=o.name)
