"""Bearer-token authentication. The configured admin token is the principal ``admin``; any other
token is resolved by ``registry.Authenticate`` and cached in Redis for 60 s under the token's
SHA-256 (never the token itself). A user holding the ``admin`` role is an admin too."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

import structlog
from redis.exceptions import RedisError

from baobei.core.errors import Forbidden, NotFound, Unauthenticated
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge.clients import Clients

log = structlog.get_logger(__name__)
CACHE_TTL_SECONDS = 60
ADMIN_ID = "admin"


@dataclass(frozen=True)
class Principal:
    id: str
    is_admin: bool = False
    roles: tuple[str, ...] = ()
    name: str = ""
    department_id: str = ""

    def viewer(self, approver_project_ids: list[str] | None = None) -> registry_pb2.Viewer:
        return registry_pb2.Viewer(
            user_id=self.id,
            is_admin=self.is_admin,
            roles=list(self.roles),
            approver_project_ids=list(approver_project_ids or []),
        )


def bearer_token(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


def _cache_key(token: str) -> str:
    return "baobei:edge:auth:" + hashlib.sha256(token.encode()).hexdigest()


def _principal(user_id: str, roles: list[str], name: str = "", department_id: str = "") -> Principal:
    return Principal(id=user_id, is_admin="admin" in roles, roles=tuple(roles), name=name, department_id=department_id)


async def authenticate(token: str, clients: Clients) -> Principal:
    admin_token = clients.settings.admin_token
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal(id=ADMIN_ID, is_admin=True, roles=("admin",), name="admin")
    key = _cache_key(token)
    try:
        cached = await clients.redis.get(key)
    except RedisError:
        cached = None  # the cache is an optimisation; fall through to the registry
    if cached:
        data = json.loads(cached)
        return _principal(data["id"], data.get("roles", []), data.get("name", ""), data.get("department_id", ""))
    try:
        resp = await clients.registry.Authenticate(registry_pb2.AuthenticateRequest(token=token))
    except (Unauthenticated, NotFound, Forbidden):
        raise Unauthenticated() from None
    user = resp.user
    if not user.id:
        raise Unauthenticated()
    data = {"id": user.id, "roles": list(user.roles), "name": user.name, "department_id": user.department_id}
    try:
        # The user's cached tokens are listed beside them, so revoke_user can drop them at once.
        async with clients.redis.pipeline(transaction=True) as pipe:
            pipe.set(key, json.dumps(data, ensure_ascii=False), ex=CACHE_TTL_SECONDS)
            pipe.sadd(_user_key(user.id), key)
            pipe.expire(_user_key(user.id), CACHE_TTL_SECONDS)
            await pipe.execute()
    except RedisError:
        log.warning("auth.cache_unavailable")
    return _principal(user.id, list(user.roles), user.name, user.department_id)


def _user_key(user_id: str) -> str:
    return "baobei:edge:auth:user:" + hashlib.sha256(user_id.encode()).hexdigest()


async def revoke_user(clients: Clients, user_id: str) -> None:
    """Forget the cached tokens of a user (e.g. who left the organisation): their next request
    goes to the registry, which refuses it."""
    try:
        keys = await clients.redis.smembers(_user_key(user_id))
        await clients.redis.delete(_user_key(user_id), *keys)
    except RedisError:
        log.warning("auth.revoke_unavailable", user_id=user_id)
