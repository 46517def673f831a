"""Reporting events as their senders build them: the event type ("project.created") ↔ the `kind`
field of ``Event`` ("project_created"), and a typed event from JSON values (the shape the
workflows' activity inputs carry in Temporal histories, old and new)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from baobei.reporting.v1 import reporting_service_pb2 as pb

KINDS: tuple[str, ...] = tuple(f.name for f in pb.Event.DESCRIPTOR.oneofs_by_name["kind"].fields)


def type_of(kind: str) -> str:
    """``project_created`` → ``project.created``; ``approval_step_opened`` → ``approval.step_opened``."""
    return kind.replace("_", ".", 1)


def kind_of(event_type: str) -> str:
    """The `kind` field for an event type; ValueError for a type reporting has no kind for."""
    kind = event_type.replace(".", "_", 1)
    if event_type != type_of(kind) or kind not in KINDS:
        raise ValueError(f"unknown reporting event type {event_type!r}")
    return kind


def parse_values(target: Message, values: Mapping[str, Any], *, ignore_unknown: bool = False) -> Message:
    """Fill ``target`` from JSON values (keys are its field names); ParseError names a mistyped
    field. An explicit null sets a field that tracks presence to its default ("" / 0): senders
    use null for "cleared" (a reopened task's done_at)."""
    fields = target.DESCRIPTOR.fields_by_name
    json_format.ParseDict(
        {k: v for k, v in values.items() if v is not None}, target, ignore_unknown_fields=ignore_unknown
    )
    for key, value in values.items():
        f = fields.get(key)
        if value is None and f is not None and f.has_presence and f.message_type is None:
            setattr(target, key, f.default_value)
    return target


def kind_message(event: pb.Event) -> Message | None:
    kind = event.WhichOneof("kind")
    return getattr(event, kind) if kind else None


def build(
    *,
    event_id: str,
    event_type: str,
    project_id: str,
    at: datetime,
    actor_id: str = "",
    values: Mapping[str, Any] | None = None,
    facts: pb.ProjectFacts | None = None,
) -> pb.Event:
    """A typed event. ``facts`` (project kinds) is merged under ``values`` (comment, channel)."""
    event = pb.Event(event_id=event_id, project_id=project_id, actor_id=actor_id)
    event.at.FromDatetime(at.astimezone(UTC))
    target = getattr(event, kind_of(event_type))
    if facts is not None:
        target.CopyFrom(facts)
    parse_values(target, values or {})
    return event
