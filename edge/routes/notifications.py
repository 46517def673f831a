"""The caller's in-app inbox."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from baobei.notify.v1 import notify_service_pb2 as notify_pb2
from edge import mapping
from edge.deps import Clients, CurrentUser
from edge.routes import area_router
from edge.schemas import NotificationList

router = area_router("notifications")


@router.get("/me/notifications", response_model=NotificationList, response_model_exclude_none=True)
async def my_notifications(
    user: CurrentUser,
    clients: Clients,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    """Newest first; approval requests carry an absolute `action_url`."""
    resp = await clients.notify.ListInbox(
        notify_pb2.ListInboxRequest(user_id=user.id, limit=limit, cursor=cursor or "")
    )
    return {"items": [mapping.notification_out(n) for n in resp.items], "next_cursor": resp.next_cursor or None}
