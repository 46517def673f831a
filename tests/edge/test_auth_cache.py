"""The edge's authentication cache (edge.auth) against a real registry and Redis (in-process
stack): a cached token or session spares the registry, and a directory change (roles via PUT
/org) takes effect on the very next request, even when the registry's answer raced the change."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import auth
from edge.clients import Clients
from tests.edge.conftest import Org, Stack
from tests.edge.test_tokens import add_users, issue

pytestmark = pytest.mark.asyncio(loop_scope="session")


class CountingRegistry:
    """The real registry, counting the authentication calls; ``then`` runs right after an answer
    (a change landing between the registry's answer and the edge's cache write)."""

    def __init__(self, real: Clients, then: Any = None) -> None:
        self.real, self.then, self.calls = real, then, 0

    async def Authenticate(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.calls += 1
        answer = await self.real.registry.Authenticate(request)
        if self.then is not None:
            await self.then()
        return answer

    async def GetUser(self, request: Any) -> Any:  # noqa: N802
        self.calls += 1
        answer = await self.real.registry.GetUser(request)
        if self.then is not None:
            await self.then()
        return answer


def through(real: Clients, registry: CountingRegistry) -> Any:
    class Via:
        settings, redis = real.settings, real.redis

    Via.registry = registry  # type: ignore[attr-defined]
    return Via()


async def set_roles(admin: httpx.AsyncClient, org: Org, user_id: str, roles: list[str]) -> None:
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": user_id, "name": "角色变更", "department_id": org.dept, "roles": roles}]})
    assert r.status_code == 200, r.text


async def test_a_role_change_takes_effect_at_once_with_the_cache_warm(stack: Stack, admin: httpx.AsyncClient,
                                                                      org: Org) -> None:
    (uid,) = await add_users(admin, org, ("角色变更", ["admin"]))
    token = (await issue(admin, uid))["token"]
    async with stack.client(token) as client:
        assert (await client.get(f"/api/v1/users/{uid}/tokens")).status_code == 200  # admin, now cached
        await set_roles(admin, org, uid, ["sales"])
        assert (await client.get(f"/api/v1/users/{uid}/tokens")).status_code == 403
        await set_roles(admin, org, uid, ["admin"])
        assert (await client.get(f"/api/v1/users/{uid}/tokens")).status_code == 200


async def test_a_cached_token_spares_the_registry_until_the_directory_changes(stack: Stack, admin: httpx.AsyncClient,
                                                                             org: Org) -> None:
    token = (await issue(admin, org.user("rep")))["token"]
    real = Clients(deps=stack.deps, locale="zh", request_id=uuid.uuid4().hex)
    registry = CountingRegistry(real)
    for _ in range(3):
        assert (await auth.authenticate(token, through(real, registry))).id == org.user("rep")
    assert registry.calls == 1
    await auth.directory_changed(real)
    assert (await auth.authenticate(token, through(real, registry))).id == org.user("rep")
    assert registry.calls == 2


async def test_an_answer_racing_a_directory_change_is_not_used_from_the_cache(stack: Stack, admin: httpx.AsyncClient,
                                                                              org: Org) -> None:
    """The registry answers with the old roles, the org changes, then the edge writes its cache:
    that entry is of the old epoch, so the next request asks the registry and sees the new role."""
    (uid,) = await add_users(admin, org, ("竞态", ["admin"]))
    token = (await issue(admin, uid))["token"]
    real = Clients(deps=stack.deps, locale="zh", request_id=uuid.uuid4().hex)

    async def demote() -> None:
        await set_roles(admin, org, uid, ["sales"])

    racing = CountingRegistry(real, then=demote)
    assert (await auth.authenticate(token, through(real, racing))).is_admin  # the request in flight
    registry = CountingRegistry(real)
    principal = await auth.authenticate(token, through(real, registry))
    assert registry.calls == 1 and not principal.is_admin and principal.roles == ("sales",)


async def test_a_sessions_user_follows_a_role_change(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    (uid,) = await add_users(admin, org, ("会话", ["admin"]))
    real = Clients(deps=stack.deps, locale="zh", request_id=uuid.uuid4().hex)
    registry = CountingRegistry(real)
    for _ in range(2):
        assert (await auth.session_principal(uid, "s1", "password", through(real, registry))).is_admin
    assert registry.calls == 1
    await set_roles(admin, org, uid, ["sales"])
    principal = await auth.session_principal(uid, "s1", "password", through(real, registry))
    assert registry.calls == 2 and not principal.is_admin
    # A departure is refused at once as before.
    await stack.deps.stubs["registry"].UpsertOrg(registry_pb2.UpsertOrgRequest(
        request_id=uuid.uuid4().hex, users=[registry_pb2.User(id=uid, name="会话", department_id=org.dept,
                                                              roles=["sales"], left=True)]))
    await auth.revoke_user(real, uid)
    with pytest.raises(auth.Unauthenticated):
        await auth.session_principal(uid, "s1", "password", through(real, registry))
