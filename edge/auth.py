"""Bearer-token authentication. The configured admin token is the principal ``admin``; any other
token is resolved by ``registry.Authenticate`` and cached in Redis for 60 s under the token's
SHA-256 (never the token itself). A user holding the ``admin`` role is an admin too.

The cache entry keeps the token's expiry and is never kept past it; a cached token is judged
against the clock (``now``) on every use, so an expired token is refused at once. Revoking a
token or a departure drops the user's cached entries (``revoke_user``). A change to the directory
(roles, departments, names: ``directory_changed`` after the registry's UpsertOrg) moves the
directory epoch: every entry carries the epoch read before the registry was asked, and one of an
older epoch is not used (read in the same round trip as the entry, so a hit still costs one
Redis call and no registry call)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.exceptions import RedisError, WatchError

from baobei.core.errors import Forbidden, NotFound, Unauthenticated
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import bootstrap_token
from edge.clients import Clients

log = structlog.get_logger(__name__)
CACHE_TTL_SECONDS = 60
# After a revocation, no authentication of that user is cached for this long (longer than any
# request takes from the registry's answer to the cache write).
NO_CACHE_SECONDS = 2 * CACHE_TTL_SECONDS
ADMIN_ID = "admin"


@dataclass(frozen=True)
class Principal:
    id: str
    is_admin: bool = False
    roles: tuple[str, ...] = ()
    name: str = ""
    department_id: str = ""
    # The personal access token used ("" for the bootstrap admin token); its scopes (None: all).
    token_id: str = ""
    scopes: tuple[str, ...] | None = None
    # The browser session used ("" for bearer tokens): its public id and how the user signed in.
    session_id: str = ""
    auth_method: str = "token"

    def has_scope(self, scope: str) -> bool:
        """Admins pass every scope; other tokens only the scopes they were issued with."""
        return self.is_admin or self.scopes is None or scope in self.scopes

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


EPOCH_KEY = "baobei:edge:auth:directory-epoch"


def _text(value: bytes | str | None) -> str:
    return value.decode() if isinstance(value, bytes) else (value or "")


async def _cached(clients: Clients, key: str) -> tuple[dict[str, Any] | None, str]:
    """The cached entry under ``key`` when it is of the current directory epoch, and that epoch
    (to store with a fresh entry: read before the registry is asked, so an entry written after a
    directory change it did not see is never used)."""
    prefetched = getattr(clients, "prefetched", None)  # duck-typed clients (tests) have none
    found = prefetched.pop(key, None) if prefetched else None
    if found is not None:
        raw, epoch = found  # read by the request guard with its rate-limit check (one round trip)
    else:
        try:
            raw, epoch = await clients.redis.mget(key, EPOCH_KEY)
        except RedisError:
            return None, ""  # the cache is an optimisation; fall through to the registry
    current = _text(epoch) or "0"
    data = json.loads(raw) if raw else None
    if data is not None and data.get("epoch") != current:
        data = None
    return data, current


async def directory_changed(clients: Clients) -> None:
    """Users' roles, departments or names may have changed: no cached authentication from before
    is used again. Call after the registry has the change."""
    try:
        await clients.redis.incr(EPOCH_KEY)
    except RedisError:
        log.warning("auth.directory_epoch_unavailable")


def now() -> datetime:
    """The edge's clock (a seam: tests move it)."""
    return datetime.now(UTC)


def _principal(data: dict[str, Any]) -> Principal:
    roles = [str(r) for r in data.get("roles") or []]
    scopes = data.get("scopes")
    return Principal(
        id=str(data["id"]), is_admin="admin" in roles, roles=tuple(roles), name=str(data.get("name") or ""),
        department_id=str(data.get("department_id") or ""), token_id=str(data.get("token_id") or ""),
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else None,
    )


def _expired() -> Unauthenticated:
    return Unauthenticated("令牌已过期", "the token has expired", code="token_expired")


async def authenticate(token: str, clients: Clients) -> Principal:
    admin_token = clients.settings.admin_token
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        if await bootstrap_token.retired(clients, admin_token):
            raise Unauthenticated("引导管理员令牌已停用，请使用管理员账号登录",
                                  "the bootstrap admin token has been retired; sign in with an admin account",
                                  code="bootstrap_token_retired")
        return Principal(id=ADMIN_ID, is_admin=True, roles=("admin",), name="admin")
    key = _cache_key(token)
    at = now()
    data, epoch = await _cached(clients, key)
    if data is not None:
        expires = float(data.get("expires_at") or 0)
        if expires and at.timestamp() >= expires:
            await _forget(clients, key)
            raise _expired()
        return _principal(data)
    request = registry_pb2.AuthenticateRequest(token=token)
    request.now.FromDatetime(at)
    try:
        resp = await clients.registry.Authenticate(request)
    except (Unauthenticated, NotFound, Forbidden) as err:
        if isinstance(err, Unauthenticated) and err.code in ("token_expired", "token_revoked"):
            raise Unauthenticated(err.zh, err.en, code=err.code) from None
        raise Unauthenticated() from None
    user = resp.user
    if not user.id:
        raise Unauthenticated()
    record = resp.access_token
    expires_at = record.expires_at.ToDatetime(tzinfo=UTC).timestamp() if record.expires_at.seconds else 0.0
    data = {
        "id": user.id, "roles": list(user.roles), "name": user.name, "department_id": user.department_id,
        "token_id": record.id, "scopes": list(record.scopes) if record.id else None, "expires_at": expires_at,
        "epoch": epoch,
    }
    # Never cached past the token's expiry.
    ttl = CACHE_TTL_SECONDS if not expires_at else max(1, min(CACHE_TTL_SECONDS, int(expires_at - at.timestamp())))
    await _cache_for_user(clients, user.id, key, data, ttl)
    return _principal(data)


async def _cache_for_user(clients: Clients, user_id: str, key: str, data: dict[str, Any], ttl: int) -> None:
    """Cache an authentication of ``user_id`` under ``key``, listed beside the user so
    ``revoke_user`` can drop it at once. A revocation racing this request (its marker set after
    our WATCH) aborts the write, so an answer the registry gave just before a revocation is never
    cached."""
    try:
        async with clients.redis.pipeline(transaction=True) as pipe:
            await pipe.watch(_no_cache_key(user_id))
            if not await pipe.exists(_no_cache_key(user_id)):
                pipe.multi()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
                pipe.set(key, json.dumps(data, ensure_ascii=False), ex=ttl)
                pipe.sadd(_user_key(user_id), key)
                pipe.expire(_user_key(user_id), CACHE_TTL_SECONDS)
                await pipe.execute()
    except WatchError:
        log.info("auth.cache_skipped_revocation", user_id=user_id)
    except RedisError:
        log.warning("auth.cache_unavailable")


async def session_principal(user_id: str, session_id: str, method: str, clients: Clients) -> Principal:
    """The principal of a browser session: the user as the registry knows them now (cached for
    the same minute as tokens, dropped by ``revoke_user``); a departed user is refused."""
    key = "baobei:edge:auth:session-user:" + hashlib.sha256(user_id.encode()).hexdigest()
    data, epoch = await _cached(clients, key)
    if data is None:
        try:
            user = (await clients.registry.GetUser(registry_pb2.GetUserRequest(user_id=user_id))).user
        except (NotFound, Forbidden):
            raise Unauthenticated() from None
        if not user.id or user.left:
            raise Unauthenticated("账号已停用", "the account is disabled", code="user_left")
        data = {"id": user.id, "roles": list(user.roles), "name": user.name, "department_id": user.department_id,
                "epoch": epoch}
        await _cache_for_user(clients, user_id, key, data, CACHE_TTL_SECONDS)
    base = _principal({**data, "scopes": None})
    return Principal(id=base.id, is_admin=base.is_admin, roles=base.roles, name=base.name,
                     department_id=base.department_id, session_id=session_id, auth_method=method)


async def _forget(clients: Clients, key: str) -> None:
    try:
        await clients.redis.delete(key)
    except RedisError:
        log.warning("auth.forget_unavailable")


def _user_key(user_id: str) -> str:
    return "baobei:edge:auth:user:" + hashlib.sha256(user_id.encode()).hexdigest()


def _no_cache_key(user_id: str) -> str:
    """Set for a while after a revocation: authentications of the user are not cached meanwhile."""
    return "baobei:edge:auth:nocache:" + hashlib.sha256(user_id.encode()).hexdigest()


async def revoke_user(clients: Clients, user_id: str) -> None:
    """Forget the cached tokens of a user (who left the organisation, or whose token was revoked):
    their next request goes to the registry, which refuses a dead token."""
    try:
        # First the marker (requests already past the registry then skip caching), then the entries.
        await clients.redis.set(_no_cache_key(user_id), "1", ex=NO_CACHE_SECONDS)
        keys = await clients.redis.smembers(_user_key(user_id))
        await clients.redis.delete(_user_key(user_id), *keys)
    except RedisError:
        log.warning("auth.revoke_unavailable", user_id=user_id)
