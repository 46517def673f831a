"""Protobuf ↔ domain/model translation: the only module where approval protos meet the rest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, timestamp_pb2

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.errors import FieldViolation, ValidationFailed
from services.approval import domain
from services.approval.models import ApprovalDecision, ApprovalInstance, ApprovalStep, ApprovalTask, PolicyVersion

_TASK_STATUS = {
    domain.TASK_PENDING: pb.TASK_STATUS_PENDING,
    domain.TASK_APPROVED: pb.TASK_STATUS_APPROVED,
    domain.TASK_REJECTED: pb.TASK_STATUS_REJECTED,
    domain.TASK_CLOSED: pb.TASK_STATUS_CLOSED,
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
    return domain.ApproverSpec(type=msg.type, user_id=msg.user_id, role=msg.role)


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
            )
        )
    return domain.normalise_steps(out)


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
    )


# ---------------------------------------------------------------- domain/models → responses


def approvers_to_proto(a: domain.ApproverSpec | None) -> pb.Approvers | None:
    if a is None:
        return None
    return pb.Approvers(type=a.type, user_id=a.user_id, role=a.role)


def policy_step_to_proto(s: domain.StepSpec) -> pb.PolicyStep:
    return pb.PolicyStep(
        name=s.name,
        when=s.when,
        approvers=approvers_to_proto(s.approvers),
        mode=s.mode,
        sla=s.sla,
        escalate_to=approvers_to_proto(s.escalate_to),
        on_timeout=s.on_timeout,
    )


def policy_to_proto(row: PolicyVersion) -> pb.Policy:
    return pb.Policy(
        key=row.key,
        form_key=row.form_key,
        version=row.version,
        steps=[policy_step_to_proto(domain.StepSpec.from_dict(s)) for s in row.steps],
        created_at=timestamp(row.created_at),
    )


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
    )


def stored_step_to_planned(row: ApprovalStep) -> pb.PlannedStep:
    return pb.PlannedStep(
        index=row.step_index,
        name=row.name,
        mode=row.mode,
        approvers=list(row.approvers),
        sla_seconds=row.sla_seconds,
        sla=row.sla,
        on_timeout=row.on_timeout,
        escalate_to=list(row.escalate_to),
    )


def task_to_proto(row: ApprovalTask) -> pb.ApprovalTask:
    return pb.ApprovalTask(
        id=row.id,
        instance_id=row.instance_id,
        project_id=row.project_id,
        step_index=row.step_index,
        step_name=row.step_name,
        approver_id=row.approver_id,
        status=_TASK_STATUS.get(row.status, pb.TASK_STATUS_UNSPECIFIED),
        due_at=timestamp(row.due_at),
        created_at=timestamp(row.created_at),
    )


def decision_to_proto(row: ApprovalDecision) -> pb.Decision:
    return pb.Decision(
        user_id=row.user_id,
        action=row.action,
        comment=row.comment,
        at=timestamp(row.at),
        channel=row.channel,
        auto=row.auto,
    )


def step_state_to_proto(row: ApprovalStep, decisions: Sequence[ApprovalDecision]) -> pb.StepState:
    return pb.StepState(
        index=row.step_index,
        name=row.name,
        mode=row.mode,
        status=row.status,
        approvers=list(row.approvers),
        decisions=[decision_to_proto(d) for d in decisions],
    )


def instance_to_proto(
    row: ApprovalInstance, steps: Sequence[ApprovalStep], decisions: Sequence[ApprovalDecision]
) -> pb.Instance:
    by_step: dict[int, list[ApprovalDecision]] = {}
    for d in decisions:
        by_step.setdefault(d.step_index, []).append(d)
    return pb.Instance(
        id=row.id,
        project_id=row.project_id,
        policy_key=row.policy_key,
        policy_version=row.policy_version,
        status=row.status,
        steps=[step_state_to_proto(s, by_step.get(s.step_index, [])) for s in steps],
    )
