"""App access tokens of the IM platforms (DingTalk ``gettoken`` / ``oauth2/accessToken``, WeCom
``gettoken``, Feishu ``tenant_access_token``), cached in Redis until shortly before they expire.

The platforms limit how often a token may be fetched and answer the same token while it is
valid, so every process (the edge signing people in, the notify service sending work notices)
shares one cached token per app and credentials. A miss is refreshed by one caller under a Redis
lock while the others wait for its result (no stampede when a batch of notices or sign-ins starts
at once). A token the platform rejects (expired early, revoked, secret rotated) is dropped — only
if it is still the cached one — and fetched once more by ``with_app_token`` / ``with_app_token_sync``.

The edge is asyncio (``AppTokens``), the notify service answers gRPC on threads
(``SyncAppTokens``); both take one atomic step per round (the ``_CLAIM`` script), so their loops
are the same few lines."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis as redis_sync
import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)
T = TypeVar("T")
_PREFIX = "baobei:im:app-token:"
# Refresh this long before the platform's expiry (they announce 7200 s).
MARGIN_SECONDS = 300
LOCK_MS = 15_000
WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.05
# Delete the key only while it holds this value (a token or a lock owner).
_DELETE_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# One round: the cached token, or the refresh lock taken for ARGV[1], or "someone else refreshes".
_CLAIM = """
local t = redis.call('GET', KEYS[1])
if t then return {1, t} end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2, ''} end
return {3, ''}
"""
_HAVE, _MINE = 1, 2


class TokenRejected(Exception):
    """The platform refused the app token (expired / invalid): refresh it and try once more."""


Fetch = Callable[[], Awaitable[tuple[str, int]]]
SyncFetch = Callable[[], tuple[str, int]]


def cache_key(platform: str, api_base: str, app_id: str, app_secret: str) -> str:
    """One cache entry per app and credentials (a rotated secret gets a fresh token)."""
    material = "\n".join((platform, api_base, app_id, app_secret))
    return _PREFIX + hashlib.sha256(material.encode()).hexdigest()[:40]


def ttl_for(expires_in: int) -> int:
    if expires_in > 2 * MARGIN_SECONDS:
        return expires_in - MARGIN_SECONDS
    return max(1, expires_in // 2)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class AppTokens:
    """The asyncio front (the edge)."""

    def __init__(self, redis: Redis, key: str, fetch: Fetch) -> None:
        self.redis, self.key, self.fetch = redis, key, fetch

    async def get(self) -> str:
        owner, lock = secrets.token_hex(8), self.key + ":lock"
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            state, token = await self.redis.eval(_CLAIM, 2, self.key, lock, owner, LOCK_MS)
            if state == _HAVE:
                return _text(token)
            if state == _MINE:
                try:
                    return await self._refresh()
                finally:
                    await self.redis.eval(_DELETE_IF, 1, lock, owner)
            if time.monotonic() > deadline:
                return await self._refresh()  # the holder is stuck: fetch it ourselves
            # Someone else is fetching: wait for their token rather than asking the platform too.
            await asyncio.sleep(_POLL_SECONDS)

    async def _refresh(self) -> str:
        token, expires_in = await self.fetch()
        await self.redis.set(self.key, token, ex=ttl_for(expires_in))
        log.info("im.app_token.fetched", expires_in=expires_in)
        return token

    async def drop(self, token: str) -> None:
        """Forget ``token`` unless another caller already replaced it."""
        await self.redis.eval(_DELETE_IF, 1, self.key, token)


class SyncAppTokens:
    """The threaded front (the notify service's delivery path)."""

    def __init__(self, redis: redis_sync.Redis, key: str, fetch: SyncFetch) -> None:
        self.redis, self.key, self.fetch = redis, key, fetch

    def get(self) -> str:
        owner, lock = secrets.token_hex(8), self.key + ":lock"
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            state, token = self.redis.eval(_CLAIM, 2, self.key, lock, owner, LOCK_MS)
            if state == _HAVE:
                return _text(token)
            if state == _MINE:
                try:
                    return self._refresh()
                finally:
                    self.redis.eval(_DELETE_IF, 1, lock, owner)
            if time.monotonic() > deadline:
                return self._refresh()
            time.sleep(_POLL_SECONDS)

    def _refresh(self) -> str:
        token, expires_in = self.fetch()
        self.redis.set(self.key, token, ex=ttl_for(expires_in))
        log.info("im.app_token.fetched", expires_in=expires_in)
        return token

    def drop(self, token: str) -> None:
        self.redis.eval(_DELETE_IF, 1, self.key, token)


async def with_app_token(tokens: AppTokens, call: Callable[[str], Awaitable[T]]) -> T:
    """``call(token)``; when the platform rejects the token, refresh once and call again (a
    second rejection raises :class:`TokenRejected` to the caller)."""
    token = await tokens.get()
    try:
        return await call(token)
    except TokenRejected:
        log.info("im.app_token.rejected")
        await tokens.drop(token)
    return await call(await tokens.get())


def with_app_token_sync(tokens: SyncAppTokens, call: Callable[[str], T]) -> T:
    """The threaded ``with_app_token``."""
    token = tokens.get()
    try:
        return call(token)
    except TokenRejected:
        log.info("im.app_token.rejected")
        tokens.drop(token)
    return call(tokens.get())
