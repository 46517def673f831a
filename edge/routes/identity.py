"""Personal access tokens and the org directory (admin only)."""

from __future__ import annotations

import uuid

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.deps import AdminUser, Clients
from edge.routes import area_router
from edge.schemas import OrgIn, OrgOut, TokenResponse

router = area_router("identity")


@router.post("/users/{user_id}/tokens", status_code=201, response_model=TokenResponse)
async def issue_token(user_id: str, admin: AdminUser, clients: Clients) -> dict[str, str]:
    """A personal access token acting as that user (404 for an unknown user)."""
    resp = await clients.registry.IssueToken(
        registry_pb2.IssueTokenRequest(request_id=uuid.uuid4().hex, user_id=user_id)
    )
    return {"token": resp.token}


@router.put("/org", response_model=OrgOut)
async def put_org(body: OrgIn, admin: AdminUser, clients: Clients) -> dict[str, int]:
    """Upsert departments and users."""
    req = registry_pb2.UpsertOrgRequest(
        request_id=uuid.uuid4().hex,
        departments=[
            registry_pb2.Department(id=d.id, name=d.name, parent_id=d.parent_id or "", manager_id=d.manager_id or "")
            for d in body.departments
        ],
        users=[
            registry_pb2.User(
                id=u.id,
                name=u.name,
                email=u.email or "",
                mobile=u.mobile or "",
                department_id=u.department_id or "",
                roles=u.roles,
                region=u.region or "",
            )
            for u in body.users
        ],
    )
    resp = await clients.registry.UpsertOrg(req)
    return {"departments": resp.departments, "users": resp.users}
