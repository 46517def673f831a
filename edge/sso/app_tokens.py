"""App access tokens of the IM platforms (DingTalk ``gettoken``, WeCom ``gettoken``, Feishu
``app_access_token``), cached in Redis until shortly before they expire.

The platforms limit how often a token may be fetched and answer the same token while it is
valid, so every edge process shares one cached token per app. A miss is refreshed by one caller
under a Redis lock while the others wait for its result (no stampede when many people sign in
at once). A token the platform rejects (expired early, revoked, secret rotated) is dropped —
only if it is still the cached one — and fetched once more by :func:`with_app_token`."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog
from redis.asyncio import Redis

log = structlog.get_logger(__name__)
T = TypeVar("T")
_PREFIX = "baobei:edge:sso:app-token:"
# Refresh this long before the platform's expiry (they announce 7200 s).
MARGIN_SECONDS = 300
LOCK_MS = 15_000
WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.05
# Delete the key only while it holds this value (a token or a lock owner).
_DELETE_IF = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class TokenRejected(Exception):
    """The platform refused the app token (expired / invalid): refresh it and try once more."""


Fetch = Callable[[], Awaitable[tuple[str, int]]]


def cache_key(platform: str, api_base: str, app_id: str, app_secret: str) -> str:
    """One cache entry per app and credentials (a rotated secret gets a fresh token)."""
    material = "\n".join((platform, api_base, app_id, app_secret))
    return _PREFIX + hashlib.sha256(material.encode()).hexdigest()[:40]


def ttl_for(expires_in: int) -> int:
    if expires_in > 2 * MARGIN_SECONDS:
        return expires_in - MARGIN_SECONDS
    return max(1, expires_in // 2)


class AppTokens:
    def __init__(self, redis: Redis, key: str, fetch: Fetch) -> None:
        self.redis, self.key, self.fetch = redis, key, fetch

    async def get(self) -> str:
        cached = await self.redis.get(self.key)
        if cached:
            return str(cached)
        owner = secrets.token_hex(8)
        lock = self.key + ":lock"
        if await self.redis.set(lock, owner, nx=True, px=LOCK_MS):
            try:
                cached = await self.redis.get(self.key)  # refreshed while we took the lock
                if cached:
                    return str(cached)
                return await self._refresh()
            finally:
                await self.redis.eval(_DELETE_IF, 1, lock, owner)
        # Someone else is fetching: wait for their token rather than asking the platform too.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(_POLL_SECONDS)
            cached = await self.redis.get(self.key)
            if cached:
                return str(cached)
            if not await self.redis.exists(lock):
                break  # the holder failed: fetch it ourselves
        return await self._refresh()

    async def _refresh(self) -> str:
        token, expires_in = await self.fetch()
        await self.redis.set(self.key, token, ex=ttl_for(expires_in))
        log.info("sso.app_token.fetched", expires_in=expires_in)
        return token

    async def drop(self, token: str) -> None:
        """Forget ``token`` unless another caller already replaced it."""
        await self.redis.eval(_DELETE_IF, 1, self.key, token)


async def with_app_token(tokens: AppTokens, call: Callable[[str], Awaitable[T]]) -> T:
    """``call(token)``; when the platform rejects the token, refresh once and call again (a
    second rejection raises :class:`TokenRejected` to the caller)."""
    token = await tokens.get()
    try:
        return await call(token)
    except TokenRejected:
        log.info("sso.app_token.rejected")
        await tokens.drop(token)
    return await call(await tokens.get())
