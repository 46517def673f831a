"""Personal access tokens (issued by admins; listed and revoked by their holder or an admin) and
the org directory (admin only)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Response

from baobei.core.errors import NotFound
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, auth, mapping
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.idempotency import secret_response
from edge.openapi_examples import (
    ADMIN_REQUIRED,
    UNAUTHENTICATED,
    USER_LEFT,
    USER_NOT_FOUND,
    ErrorExample,
    error_examples,
)
from edge.routes import area_router
from edge.schemas import OrgIn, OrgOut
from edge.schemas_tokens import TokenIn, TokenIssued, TokenList

router = area_router("identity")
INT32_MAX = 2**31 - 1
TOKEN_NOT_FOUND = ErrorExample(404, "token_not_found", "令牌 5b0e9c2f8a4d4e1f9c3b7a6d2e8f0a1c 不存在")
REVOKED: dict[int | str, dict[str, Any]] = {
    204: {"description": "Revoked: the token is refused from the next request on"}}


def token_out(t: registry_pb2.AccessToken) -> dict[str, Any]:
    return {"id": t.id, "name": t.name, "scopes": list(t.scopes), "created_at": mapping.ts(t.created_at),
            "expires_at": mapping.ts(t.expires_at), "last_used_at": mapping.ts(t.last_used_at)}


@router.post("/users/{user_id}/tokens", status_code=201, response_model=TokenIssued, responses=error_examples(
    USER_NOT_FOUND, USER_LEFT, ErrorExample(422, "validation_failed", "输入校验失败", (
        ("scopes[0]", "未知权限范围 crm:read，可选：crm:write、org:sync、reports:read"),)), ADMIN_REQUIRED))
@secret_response("token")
async def issue_token(user_id: str, admin: AdminUser, clients: Clients, body: TokenIn | None = None) -> dict[str, Any]:
    """A personal access token acting as that user (404 for an unknown user, 409 for one who
    left). The secret is in this answer only; an `Idempotency-Key` repeat gets 409
    `idempotent_secret` (the secret is not kept) naming the token issued."""
    body = body or TokenIn()
    req = registry_pb2.IssueTokenRequest(request_id=uuid.uuid4().hex, user_id=user_id, name=body.name or "")
    if body.scopes is not None:
        req.scopes.extend(body.scopes)
        req.scopes_given = True
    if body.expires_in_days is not None:
        # 0 means "default" on the wire: an explicit 0 (or less) is sent as -1 so the registry refuses it.
        req.expires_in_days = min(body.expires_in_days, INT32_MAX) if body.expires_in_days > 0 else -1
    resp = await clients.registry.IssueToken(req)
    t = resp.access_token
    await audit.record(clients, "token.issued", actor_id=admin.id, target_type="user", target_id=user_id,
                       details={"token_id": t.id, "name": t.name, "scopes": list(t.scopes),
                                "expires_at": mapping.ts(t.expires_at)})
    return {"token": resp.token, **token_out(t)}


async def _tokens(clients: EdgeClients, user_id: str) -> dict[str, Any]:
    resp = await clients.registry.ListTokens(registry_pb2.ListTokensRequest(user_id=user_id))
    return {"items": [token_out(t) for t in resp.tokens]}


async def _revoke(clients: EdgeClients, actor_id: str, user_id: str, token_id: str) -> Response:
    await clients.registry.RevokeToken(registry_pb2.RevokeTokenRequest(user_id=user_id, token_id=token_id))
    # Refused at once: the user's cached authentications are dropped.
    await auth.revoke_user(clients, user_id)
    await audit.record(clients, "token.revoked", actor_id=actor_id, target_type="user", target_id=user_id,
                       details={"token_id": token_id})
    return Response(status_code=204)


@router.get("/me/tokens", response_model=TokenList, responses=error_examples(UNAUTHENTICATED))
async def my_tokens(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The caller's live tokens, newest first (never the secret). The bootstrap admin token is
    not a personal token: its list is empty."""
    if not user.token_id:
        return {"items": []}
    return await _tokens(clients, user.id)


@router.delete("/me/tokens/{token_id}", status_code=204, response_class=Response,
               responses={**REVOKED, **error_examples(TOKEN_NOT_FOUND)})
async def revoke_my_token(token_id: str, user: CurrentUser, clients: Clients) -> Response:
    """Revoke one of the caller's tokens (the one in use too); it is refused from the next request.
    404 when it is not the caller's."""
    if not user.token_id:
        raise NotFound(f"令牌 {token_id} 不存在", f"token {token_id} not found", code="token_not_found")
    return await _revoke(clients, user.id, user.id, token_id)


@router.get("/users/{user_id}/tokens", response_model=TokenList,
            responses=error_examples(USER_NOT_FOUND, ADMIN_REQUIRED))
async def user_tokens(user_id: str, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """A user's live tokens (admin; 404 for an unknown user)."""
    return await _tokens(clients, user_id)


@router.delete("/users/{user_id}/tokens/{token_id}", status_code=204, response_class=Response,
               responses={**REVOKED, **error_examples(TOKEN_NOT_FOUND, ADMIN_REQUIRED)})
async def revoke_user_token(user_id: str, token_id: str, admin: AdminUser, clients: Clients) -> Response:
    """Revoke one token of a user (admin; 404 when it is not theirs). Repeating it is harmless."""
    return await _revoke(clients, admin.id, user_id, token_id)


@router.put("/org", response_model=OrgOut, responses=error_examples(ErrorExample(
    422, "validation_failed", "输入校验失败", (("users[2].name", "长度不能少于 1 个字符"),)), ADMIN_REQUIRED))
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
        actor=registry_pb2.OrgActor(user_id=admin.id, roles=list(admin.roles), is_admin=admin.is_admin),
    )
    before = await _roles_of(clients, [u.id for u in body.users])
    resp = await clients.registry.UpsertOrg(req)
    await auth.directory_changed(clients)  # new roles count from the next request, not after the cache's minute
    refused = {r.user_id for r in resp.refused if r.user_id}
    await record_org_change(clients, admin.id, "org.upserted", before,
                            {u.id: list(u.roles) for u in body.users if u.id not in refused},
                            {"departments": resp.departments, "users": resp.users,
                             "department_ids": [d.id for d in body.departments], "refused": len(resp.refused)})
    return {"departments": resp.departments, "users": resp.users}


# Roles whose grant to a new user is worth an event of its own (others are in the summary).
PRIVILEGED_ROLES = frozenset({"admin", "integrator"})
# Role events per upsert (each is one append); a bigger reshuffle lists the rest in the summary.
MAX_ROLE_EVENTS = 200


async def _roles_of(clients: EdgeClients, user_ids: list[str]) -> dict[str, list[str]]:
    """The roles the registry holds now for those of ``user_ids`` it knows."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return {}
    resp = await clients.registry.ListUsers(registry_pb2.ListUsersRequest(user_ids=ids))
    return {u.id: list(u.roles) for u in resp.users}


async def record_org_change(clients: EdgeClients, actor_id: str, action: str, before: dict[str, list[str]],
                            after: dict[str, list[str]], summary: dict[str, Any]) -> None:
    """One summary event for an org change, plus a ``role.changed`` event per existing user whose
    roles changed and per new user given a privileged role (the first MAX_ROLE_EVENTS of them; the
    others are named in the summary's ``role_changes_unlisted``)."""
    created = [uid for uid in after if uid not in before]
    changed = [uid for uid, roles in after.items()
               if (uid in before and sorted(before[uid]) != sorted(roles))
               or (uid not in before and PRIVILEGED_ROLES & set(roles))]
    await audit.record(clients, action, actor_id=actor_id, target_type="org", details={
        **summary, "user_ids": list(after), "created": created, "role_changes": len(changed),
        **({"role_changes_unlisted": changed[MAX_ROLE_EVENTS:]} if len(changed) > MAX_ROLE_EVENTS else {}),
    })
    for uid in changed[:MAX_ROLE_EVENTS]:
        old, new = sorted(before.get(uid, [])), sorted(after[uid])
        await audit.record(clients, "role.changed", actor_id=actor_id, target_type="user", target_id=uid,
                           details={"before": old, "after": new, "granted": sorted(set(new) - set(old)),
                                    "removed": sorted(set(old) - set(new)), "via": action})
