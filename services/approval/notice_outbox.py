"""Approval requests published by the approval service (issue 15): when OpenStep names a notice
and actually opens the step with pending tasks, one ``Notice`` per task is written to the notice
outbox in the same transaction; the worker's relay (workflows/notice_relay.py) sends each through
``notify.Send`` and acknowledges it. A refused or rolled-back opening writes none; a replayed
request (same request id) or a re-opening of an open step (a continued workflow run) creates no
task and so writes none; a step that auto-approves, skips or rejects asks nobody.

Each notice's request id is ``<prefix>:<approver>:<task id>``, the id the lifecycle workflow gave
its own Send of that request, so notify (idempotent on it) makes the two one notification."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf import struct_pb2
from sqlmodel import Session

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.errors import FieldViolation, ValidationFailed, require
from baobei.core.event_outbox import publish_rows
from services.approval import domain
from services.approval.models import notice_outbox

KINDS = ("approval_request",)


def validate(spec: pb.NoticeSpec, *, field: str = "notice") -> None:
    """``field``: the spec's path in the request (``notice``, or ``open_next.notice`` of a decision)."""
    violations = require(spec.request_id_prefix, f"{field}.request_id_prefix", "通知请求号前缀",
                         "notice request id prefix")
    if spec.kind not in KINDS:
        violations.append(FieldViolation(f"{field}.kind", f"不支持的通知类型：{spec.kind}",
                                         f"unsupported notice kind: {spec.kind!r} (one of {', '.join(KINDS)})"))
    if violations:
        raise ValidationFailed(violations)


def request_id(prefix: str, approver_id: str, task_id: str) -> str:
    return f"{prefix}:{approver_id}:{task_id}"


def publish(session: Session, spec: pb.NoticeSpec | None, *, project_id: str, step_name: str,
            tasks: Sequence[domain.Task]) -> int:
    """One approval request per pending task this opening created; how many were written."""
    if spec is None:
        return 0
    rows: list[tuple[str, bytes]] = []
    for task in tasks:
        if task.status != domain.TASK_PENDING:
            continue
        context = struct_pb2.Struct()
        context.CopyFrom(spec.context)
        if step_name:
            context.update({"step": step_name})
        context.update({"task_id": task.id})
        notice = pb.Notice(request_id=request_id(spec.request_id_prefix, task.approver_id, task.id),
                           recipient_id=task.approver_id, kind=spec.kind, project_id=spec.project_id or project_id,
                           action_tasks={task.approver_id: task.id}, context=context)
        rows.append((notice.request_id, notice.SerializeToString()))
    publish_rows(session, notice_outbox, rows)  # one executemany for the step's approvers
    return len(rows)
