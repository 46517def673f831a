"""Approval events for reporting (``approval.step_opened``, ``approval.decided``), published
through the approval service's outbox (event_outbox, written in the transaction of the opening,
decision, timer or reassignment; baobei/core/event_outbox.py). They are the events the lifecycle
workflow sent through its reporting activity before, with the same ids and values:

    <scope>:approval.step_opened:<instance>:<step>:<key>      (key: the opening's seq)
    <scope>:approval.decided:<instance>:<step>:<key>          (key: the workflow's decision key;
                                                               "auto:<seq>" for an auto-approved step)

``scope`` is the caller's workflow id; a request without one publishes nothing (old workflow
histories report themselves, and other callers — acceptance, changes — keep their own events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlmodel import Session

from baobei import reporting_events
from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.event_outbox import publish
from services.approval.models import event_outbox

SYSTEM = "system"


def _iso(ts: Timestamp, default: datetime) -> str:
    return (ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else default).isoformat()


def _publish(session: Session, *, event_id: str, event_type: str, project_id: str, actor_id: str,
             values: dict[str, Any], at: datetime) -> None:
    event = reporting_events.build(event_id=event_id, event_type=event_type, project_id=project_id, at=at,
                                   actor_id=actor_id, values=values)
    publish(session, event_outbox, event)


def decided(
    session: Session, *, scope: str, key: str, instance_id: str, project_id: str, step_index: int, step: str,
    user_id: str, action: str, channel: str, on_behalf_of: str = "",
) -> None:
    if not scope:
        return
    now = datetime.now(UTC)
    values: dict[str, Any] = {"instance_id": instance_id, "step_index": step_index, "step": step,
                              "user_id": user_id, "action": action, "at": now.isoformat(), "channel": channel}
    if on_behalf_of:
        values["on_behalf_of"] = on_behalf_of
    _publish(session, event_id=f"{scope}:approval.decided:{instance_id}:{step_index}:{key}",
             event_type="approval.decided", project_id=project_id, actor_id=user_id, values=values, at=now)


def opened(session: Session, *, scope: str, key: str, instance_id: str, project_id: str,
           resp: pb.OpenStepResponse) -> None:
    """What an opening reports: the opened step, or the decision of an auto-approved one; a step
    that opened settled otherwise (skipped, rejected) reports nothing."""
    if not scope:
        return
    step = resp.step
    if step.status in ("approved", "skipped"):
        if resp.auto_approved:
            decided(session, scope=scope, key=f"auto:{key}", instance_id=instance_id, project_id=project_id,
                    step_index=step.index, step=step.name, user_id=(list(step.approvers) or [""])[0],
                    action="approve", channel="auto")
        return
    if step.status == "rejected":
        return
    now = datetime.now(UTC)
    values = {"instance_id": instance_id, "step_index": step.index, "step": step.name,
              "approvers": sorted(set(step.approvers)), "opened_at": _iso(step.opened_at, now)}
    _publish(session, event_id=f"{scope}:approval.step_opened:{instance_id}:{step.index}:{key}",
             event_type="approval.step_opened", project_id=project_id, actor_id="", values=values, at=now)


def timer_fired(session: Session, *, scope: str, key: str, instance_id: str, project_id: str, step_index: int,
                resp: pb.FireTimerResponse) -> None:
    """An escalation or an SLA action (not a reminder) that took effect is a system decision."""
    if not resp.fired or resp.action == "remind":
        return
    action = "escalate" if resp.action == "escalate" else f"timeout_{resp.action}"
    decided(session, scope=scope, key=key, instance_id=instance_id, project_id=project_id, step_index=step_index,
            step=resp.step.name, user_id=SYSTEM, action=action, channel=SYSTEM)
