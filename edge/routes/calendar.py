"""The company calendar: administrators' overrides of the mainland statutory calendar (company
holidays, extra workdays). Approval SLAs (`8wh`, `2wd`: due times, reminders, escalations) and
execution rules (`overdue 24h` counts only the hours of working days) count on statutory +
overrides. Stored by the approval service; every signed-in user may read them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from edge import audit
from edge.deps import AdminUser, Clients, CurrentUser
from edge.routes import area_router
from edge.schemas_calendar import CalendarOverridesIn, CalendarOverridesOut

router = area_router("calendar")

Year = Annotated[int | None, Query(ge=1900, le=2200, description="Only this year's overrides")]


def _out(overrides: Any) -> dict[str, Any]:
    return {"overrides": [{"date": o.date, "kind": o.kind, "name": o.name} for o in overrides]}


@router.get("/calendar/overrides", response_model=CalendarOverridesOut)
async def get_overrides(user: CurrentUser, clients: Clients, year: Year = None) -> dict[str, Any]:
    """The company's overrides of the statutory calendar, by date (of `year` when given)."""
    resp = await clients.approval.GetCalendar(approval_pb2.GetCalendarRequest(year=year or 0))
    return _out(resp.overrides)


@router.put("/calendar/overrides", response_model=CalendarOverridesOut)
async def put_overrides(
    body: CalendarOverridesIn, admin: AdminUser, clients: Clients, year: Year = None
) -> dict[str, Any]:
    """Replace the overrides (only `year`'s when given: each date must then fall in it). Dates are
    `YYYY-MM-DD`, `kind` is `holiday` or `workday`, one entry per date; a bad entry → 422 naming it
    (`overrides[3].date`). Steps opened from now on and the next rule evaluation count on it."""
    resp = await clients.approval.PutCalendar(
        approval_pb2.PutCalendarRequest(
            year=year or 0,
            overrides=[approval_pb2.CalendarOverride(date=o.date, kind=o.kind, name=o.name) for o in body.overrides],
            actor_id=admin.id,
        )
    )
    await audit.record(clients, "calendar.changed", actor_id=admin.id, target_type="calendar",
                       target_id=str(year or "all"), details={"overrides": len(resp.overrides)})
    return _out(resp.overrides)
