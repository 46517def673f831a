"""Reports over the projects the caller may see."""

from __future__ import annotations

from typing import Any

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb2
from edge.deps import Clients, CurrentUser
from edge.routes import area_router
from edge.routes.projects import viewer_of
from edge.schemas import PortfolioOut

router = area_router("reports")
PAGE = 200
MAX_PAGES = 500


@router.get("/reports/portfolio", response_model=PortfolioOut)
async def portfolio(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Counts by status, total amount (all statuses), overdue tasks and per-project health."""
    if user.is_admin:
        req = reporting_pb2.PortfolioRequest(all=True)
    else:
        viewer = await viewer_of(clients, user)
        ids: list[str] = []
        cursor = ""
        for _ in range(MAX_PAGES):
            page = await clients.registry.ListProjects(
                registry_pb2.ListProjectsRequest(viewer=viewer, limit=PAGE, cursor=cursor)
            )
            ids.extend(p.id for p in page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        req = reporting_pb2.PortfolioRequest(all=False, project_ids=ids)
    resp = await clients.reporting.Portfolio(req)
    return {
        "by_status": dict(resp.by_status),
        "total_amount": resp.total_amount or "0",
        "overdue_tasks": resp.overdue_tasks,
        "projects": [
            {
                "id": p.id,
                "code": p.code,
                "name": p.name,
                "status": p.status,
                "amount": p.amount,
                "health": p.health,
                "reasons": list(p.reasons),
            }
            for p in resp.projects
        ],
    }
