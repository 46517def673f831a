"""Whether the configured bootstrap admin token (``BAOBEI_ADMIN_TOKEN``) has been retired.

The registry keeps the SHA-256 fingerprints of retired tokens (``AccountService.
RetireBootstrapToken``, one-way); the edge asks it at most once a minute per token and keeps the
answer in Redis, shared by every replica. Retiring writes the answer at once, so the token is
refused from the next request on. A new ``BAOBEI_ADMIN_TOKEN`` value is not retired (setting one
is an operator's act, like ``baobei create-admin``)."""

from __future__ import annotations

import hashlib

import structlog
from redis.exceptions import RedisError

from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from edge.clients import Clients

log = structlog.get_logger(__name__)
PREFIX = "baobei:edge:bootstrap-token-retired:"
RETIRED_TTL, ACTIVE_TTL = 3600, 60


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(token: str) -> str:
    return PREFIX + fingerprint(token)[:32]


def is_retired(settings: accounts_pb2.AuthSettings, token: str) -> bool:
    mine = fingerprint(token)
    return any(r.fingerprint == mine for r in settings.retired_bootstrap_tokens)


async def retired(clients: Clients, token: str) -> bool:
    try:
        cached = await clients.redis.get(_key(token))
    except RedisError:
        cached = None
    if cached is not None:
        return str(cached) == "1"
    answer = is_retired(await clients.accounts.GetAuthSettings(accounts_pb2.GetAuthSettingsRequest()), token)
    await remember(clients, token, answer)
    return answer


async def remember(clients: Clients, token: str, is_retired: bool) -> None:
    try:
        await clients.redis.set(_key(token), "1" if is_retired else "0", ex=RETIRED_TTL if is_retired else ACTIVE_TTL)
    except RedisError:
        log.warning("bootstrap_token.cache_unavailable")
