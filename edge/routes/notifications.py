"""The caller's in-app inbox: list (all or unread, with the unread count), mark one or all read."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from edge import mapping
from edge.deps import Clients, CurrentUser
from edge.routes import area_router
from edge.schemas import NotificationList, NotificationOut, NotificationReadAll

router = area_router("notifications")


@router.get("/me/notifications", response_model=NotificationList, response_model_exclude_none=True)
async def my_notifications(
    user: CurrentUser,
    clients: Clients,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query()] = None,
    unread: Annotated[bool, Query(description="true: only notifications not yet read")] = False,
) -> dict[str, Any]:
    """Newest first; approval requests carry an absolute `action_url`; `unread_count` counts all
    of the caller's unread notifications."""
    resp = await clients.notify.ListInbox(
        notify_pb2.ListInboxRequest(user_id=user.id, limit=limit, cursor=cursor or "", unread_only=unread)
    )
    return {
        "items": [mapping.notification_out(n) for n in resp.items],
        "next_cursor": resp.next_cursor or None,
        "unread_count": resp.unread_count,
    }


@router.post(
    "/me/notifications/read-all", response_model=NotificationReadAll, response_model_exclude_none=True
)
async def mark_all_read(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Mark every unread notification of the caller read."""
    resp = await clients.notify.MarkAllRead(notify_pb2.MarkAllReadRequest(user_id=user.id))
    return {"marked": resp.marked, "unread_count": resp.unread_count}


@router.post(
    "/me/notifications/{notification_id}/read", response_model=NotificationOut, response_model_exclude_none=True
)
async def mark_read(notification_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Mark one of the caller's notifications read (a repeat changes nothing; someone else's → 404)."""
    resp = await clients.notify.MarkRead(
        notify_pb2.MarkReadRequest(user_id=user.id, notification_id=notification_id)
    )
    return mapping.notification_out(resp.notification)
