"""The only place where reporting protobuf messages meet domain objects."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from google.protobuf import json_format

from baobei.reporting.v1 import reporting_service_pb2 as pb
from services.reporting import domain


def event(message: pb.Event) -> domain.Event:
    return domain.Event(
        event_id=message.event_id.strip(),
        type=message.type.strip(),
        project_id=message.project_id.strip(),
        at=message.at.ToDatetime(tzinfo=UTC) if message.HasField("at") else None,
        actor_id=message.actor_id.strip(),
        payload=payload_json(message),
    )


def payload_json(message: pb.Event) -> dict[str, Any]:
    """The payload Struct as plain JSON (numbers are JSON numbers; amounts should be strings)."""
    return json_format.MessageToDict(message.payload) if message.HasField("payload") else {}


def portfolio(p: domain.Portfolio) -> pb.PortfolioResponse:
    return pb.PortfolioResponse(
        by_status=dict(p.by_status),
        total_amount=domain.format_amount(p.total_amount),
        overdue_tasks=p.overdue_tasks,
        projects=[
            pb.ProjectHealth(
                id=h.project_id,
                code=h.code,
                name=h.name,
                status=h.status,
                amount=domain.format_amount(h.amount) if h.amount is not None else "",
                health=h.health,
                reasons=list(h.reasons),
            )
            for h in p.projects
        ],
    )
