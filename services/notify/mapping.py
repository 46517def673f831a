"""The only place where notify protobuf messages meet domain objects."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from baobei.notify.v1 import notify_service_pb2 as pb
from services.notify import domain


def send_command(request: pb.SendRequest) -> domain.SendCommand:
    return domain.SendCommand(
        request_id=request.request_id,
        recipient_ids=tuple(request.recipient_ids),
        kind=request.kind,
        title=request.title,
        body=request.body,
        project_id=request.project_id,
        action_urls={k.strip(): v for k, v in request.action_urls.items()},
    )


def timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def notification(n: domain.Notification) -> pb.Notification:
    return pb.Notification(
        id=n.id,
        user_id=n.user_id,
        kind=n.kind,
        title=n.title,
        body=n.body,
        project_id=n.project_id,
        action_url=n.action_url,
        created_at=timestamp(n.created_at),
        read=n.read,
    )


def send_response(items: list[domain.Notification]) -> pb.SendResponse:
    return pb.SendResponse(notifications=[notification(n) for n in items])


def inbox_response(items: list[domain.Notification], next_cursor: str) -> pb.ListInboxResponse:
    return pb.ListInboxResponse(items=[notification(n) for n in items], next_cursor=next_cursor)
