"""The org directory for people pickers (any signed-in caller, integrators' tokens included: the
registry decides which contact fields each caller sees), the admin's view of every access token,
and tokens people create for themselves."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import AwareDatetime

from baobei.core.errors import Conflict, FieldViolation, ValidationFailed
from baobei.registry.v1 import directory_service_pb2 as directory_pb2
from edge import audit, auth, mapping
from edge.client_address import client_ip
from edge.deps import AdminUser, Clients, CurrentUser
from edge.idempotency import secret_response
from edge.openapi_examples import ADMIN_REQUIRED, UNAUTHENTICATED, ErrorExample, error_examples
from edge.routes import area_router
from edge.routes.identity import INT32_MAX, token_out
from edge.schemas_directory import AdminTokenPage, DirectoryUserOut, OrgTreeOut, OwnTokenIn, UserPage
from edge.schemas_tokens import TokenIssued

router = area_router("directory")
LEFT_ADMIN_ONLY = ErrorExample(403, "admin_required", "只有管理员可以查看已离职人员",
                               (("include_left", "需要管理员权限"),))

IncludeLeft = Annotated[bool, Query(description="Admins only: also users who left (403 for others)")]
Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]


def user_out(u: directory_pb2.DirectoryUser) -> dict[str, Any]:
    contact = u.contact_visible
    return {
        "id": u.id, "name": u.name,
        "department": {"id": u.department_id, "name": u.department_name} if u.department_id else None,
        "roles": list(u.roles), "left": u.left, "contact_visible": contact,
        "email": (u.email or None) if contact else None, "mobile": (u.mobile or None) if contact else None,
        "region": (u.region or None) if contact else None,
    }


def _nest(departments: list[directory_pb2.OrgDepartment]) -> list[dict[str, Any]]:
    """The registry's flat list (parents first) as a tree."""
    nodes: dict[str, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for d in departments:
        node: dict[str, Any] = {
            "id": d.id, "name": d.name, "parent_id": d.parent_id or None,
            "manager": {"id": d.manager_id, "name": d.manager_name, "left": d.manager_left} if d.manager_id else None,
            "member_count": d.member_count, "total_count": d.total_count, "children": [],
        }
        nodes[d.id] = node
        parent = nodes.get(d.parent_id) if d.parent_id != d.id else None
        (parent["children"] if parent is not None else roots).append(node)
    return roots


async def _page(clients: Clients, request: directory_pb2.SearchUsersRequest) -> dict[str, Any]:
    resp = await clients.directory.SearchUsers(request)
    return {"items": [user_out(u) for u in resp.users], "next_cursor": resp.next_cursor or None}


@router.get("/org", response_model=OrgTreeOut, responses=error_examples(LEFT_ADMIN_ONLY, UNAUTHENTICATED))
async def org_tree(user: CurrentUser, clients: Clients, include_left: IncludeLeft = False) -> dict[str, Any]:
    """The department tree with each department's manager and head counts (people who left are
    not counted unless an admin asks with `include_left=true`)."""
    resp = await clients.directory.GetOrgTree(directory_pb2.GetOrgTreeRequest(
        viewer=user.viewer(), include_left=include_left))
    return {"departments": _nest(list(resp.departments)), "department_count": len(resp.departments),
            "unassigned_count": resp.unassigned_count}


@router.get("/users", response_model=UserPage, responses=error_examples(
    ErrorExample(404, "department_not_found", "部门 sales-east 不存在"), LEFT_ADMIN_ONLY,
    ErrorExample(422, "validation_failed", "输入校验失败", (("limit", "不能大于 200"),))))
async def search_users(
    user: CurrentUser,
    clients: Clients,
    q: Annotated[str | None, Query(max_length=100, description=(
        "Name, full pinyin (zhangsan), initials (zs) or a mix (张s); admins also id, e-mail, mobile. "
        "Ranked exact > prefix > contains, then by pinyin"))] = None,
    department_id: Annotated[str | None, Query(description="Only this department (404 if unknown)")] = None,
    recursive: Annotated[bool, Query(description="With department_id: its sub-departments too")] = False,
    role: Annotated[str | None, Query(description="Only users holding this role")] = None,
    include_left: IncludeLeft = False,
    limit: Limit = 20,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Find people for a picker: who left is hidden (admins may ask for them); e-mail, mobile and
    region only for admins, the person themselves and their managers."""
    return await _page(clients, directory_pb2.SearchUsersRequest(
        viewer=user.viewer(), q=q or "", department_id=department_id or "", recursive=recursive, role=role or "",
        include_left=include_left, limit=limit, cursor=cursor or ""))


@router.get("/users/{user_id}", response_model=DirectoryUserOut, responses=error_examples(
    ErrorExample(404, "user_not_found", "用户 lisi 不存在")))
async def get_user(user_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """One person (also one who left, marked `left`, so history can show their name); 404 if unknown."""
    resp = await clients.directory.GetDirectoryUser(directory_pb2.GetDirectoryUserRequest(
        viewer=user.viewer(), user_id=user_id))
    return user_out(resp)


@router.get("/departments/{department_id}/members", response_model=UserPage, responses=error_examples(
    ErrorExample(404, "department_not_found", "部门 sales-east 不存在"), LEFT_ADMIN_ONLY))
async def department_members(
    department_id: str,
    user: CurrentUser,
    clients: Clients,
    recursive: Annotated[bool, Query(description="Also the members of every department below it")] = False,
    q: Annotated[str | None, Query(max_length=100, description="Narrow down as in GET /users")] = None,
    include_left: IncludeLeft = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The people of a department (404 if unknown), by pinyin."""
    return await _page(clients, directory_pb2.SearchUsersRequest(
        viewer=user.viewer(), q=q or "", department_id=department_id, recursive=recursive,
        include_left=include_left, limit=limit, cursor=cursor or ""))


@router.get("/tokens", response_model=AdminTokenPage, responses=error_examples(ADMIN_REQUIRED, ErrorExample(
    422, "validation_failed", "输入校验失败", (("expiring_before", "取值无效（Input should have timezone info）"),))))
async def all_tokens(
    admin: AdminUser,
    clients: Clients,
    user_id: Annotated[str | None, Query(description="Only this user's tokens")] = None,
    expiring_before: Annotated[AwareDatetime | None, Query(
        description="Only tokens expiring before this instant (ISO 8601 with zone)")] = None,
    include_expired: Annotated[bool, Query(description="Also expired tokens not revoked")] = False,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Every live token of every user, newest first, with its holder (admin). Never the secret."""
    req = directory_pb2.ListAccessTokensRequest(user_id=user_id or "", include_expired=include_expired,
                                                limit=limit, cursor=cursor or "")
    req.now.FromDatetime(auth.now())
    if expiring_before is not None:
        try:
            req.expiring_before.FromDatetime(expiring_before)
        except (OverflowError, ValueError):  # 0001-01-01 in a zone east of UTC starts before year 1
            raise ValidationFailed([FieldViolation("expiring_before", "时间超出范围", "out of range")]) from None
    resp = await clients.directory.ListAccessTokens(req)
    return {
        "items": [{**token_out(e.token), "user_id": e.token.user_id, "user_name": e.user_name, "expired": e.expired}
                  for e in resp.tokens],
        "next_cursor": resp.next_cursor or None,
    }


@router.post("/me/tokens", status_code=201, response_model=TokenIssued, responses=error_examples(
    ErrorExample(403, "scope_not_allowed", "不能为自己的令牌授予权限范围 crm:write"),
    ErrorExample(409, "not_an_org_user", "引导管理员令牌不代表组织中的用户，不能创建个人令牌：请以用户身份登录，"
                 "或由管理员用 POST /api/v1/users/{user_id}/tokens 为用户签发"),
    ErrorExample(422, "validation_failed", "输入校验失败", (("name", "长度不能少于 1 个字符"),))))
@secret_response("token")
async def create_my_token(request: Request, body: OwnTokenIn, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Create a token for yourself (for a script or an integration you run). The secret is in this
    answer only. Scopes: only those your roles allow and, when you call with a token, only those it
    has, expiring no later than it. The bootstrap admin token is no org user: 409 `not_an_org_user`."""
    if user.id == auth.ADMIN_ID and not user.token_id and not user.session_id:
        raise Conflict(
            "引导管理员令牌不代表组织中的用户，不能创建个人令牌：请以用户身份登录，或由管理员用 "
            "POST /api/v1/users/{user_id}/tokens 为用户签发",
            "the bootstrap admin token is not an org user and cannot create personal tokens: sign in as a user, "
            "or issue one for a user with POST /api/v1/users/{user_id}/tokens",
            code="not_an_org_user",
        )
    req = directory_pb2.IssueOwnTokenRequest(user_id=user.id, name=body.name, via_token_id=user.token_id)
    if body.scopes is not None:
        req.scopes.extend(body.scopes)
        req.scopes_given = True
    if body.expires_in_days is not None:
        # 0 means "default" on the wire: an explicit 0 (or less) is sent as -1 so the registry refuses it.
        req.expires_in_days = min(body.expires_in_days, INT32_MAX) if body.expires_in_days > 0 else -1
    req.now.FromDatetime(auth.now())
    resp = await clients.directory.IssueOwnToken(req)
    record = resp.access_token
    await audit.record(
        clients, "token.issued", actor_id=user.id, target_type="token", target_id=record.id,
        details={"user_id": user.id, "name": record.name, "scopes": list(record.scopes),
                 "expires_at": mapping.ts(record.expires_at), "self_service": True,
                 "via": f"token:{user.token_id}" if user.token_id else f"session:{user.auth_method}"},
        ip=client_ip(request.scope),
    )
    return {"token": resp.token, **token_out(record)}
