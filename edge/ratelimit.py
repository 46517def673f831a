"""Rate limits kept in Redis: "at most ``limit`` requests per ``window`` seconds" per key, as a
GCRA (generic cell rate algorithm) in one Lua script, so every edge replica shares one count and
a check costs one round trip. A burst of ``limit`` is allowed; after that one request per
``window / limit`` seconds. The clock is Redis's (``TIME``), the same for every replica.

A refusal is :class:`edge.errors.RateLimited` (429 with ``Retry-After``). When Redis is down the limiter lets
requests through: limits protect capacity, they are not an authorization check."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import structlog
from redis.exceptions import RedisError

from edge.errors import RateLimited
from edge.metrics import RATE_LIMITED

log = structlog.get_logger(__name__)
PREFIX = "baobei:edge:rl:"

# KEYS[1] = bucket; ARGV = interval ms (window / limit), window ms, consume (1) or only peek (0).
# Returns 0 when allowed (and counted when consuming), else the milliseconds until it would be.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - window
if wait > 0 then return wait end
if ARGV[3] == '1' then redis.call('SET', KEYS[1], new_tat, 'PX', math.max(new_tat - now, 1)) end
return 0
"""


@dataclass(frozen=True)
class Limit:
    """One limit: ``name`` (the bucket family, e.g. ``decisions``), ``limit`` per ``window``."""

    name: str
    limit: int
    window: int

    def key(self, subject: str) -> str:
        # Subjects may be credentials (tokens) or user ids: only their hash goes into the key. The
        # rate is part of it, since a bucket's state only means something at its own rate.
        digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
        return f"{PREFIX}{self.name}:{self.limit}/{self.window}:{digest}"


async def check(redis: Any, limit: Limit, subject: str, *, consume: bool = True) -> None:
    """Count one request of ``subject`` against ``limit`` (or, with ``consume=False``, only ask
    whether one would pass); raise :class:`RateLimited` when over it."""
    if limit.limit <= 0 or limit.window <= 0:
        return
    window_ms = limit.window * 1000
    interval_ms = max(1, window_ms // limit.limit)
    try:
        wait_ms = int(await redis.eval(_GCRA, 1, limit.key(subject), interval_ms, window_ms, "1" if consume else "0"))
    except RedisError:
        log.warning("ratelimit.unavailable", limit=limit.name)
        return
    if wait_ms > 0:
        log.info("ratelimit.refused", limit=limit.name, retry_after_ms=wait_ms)
        RATE_LIMITED.labels(limit.name).inc()  # a refused peek refuses the request too
        raise RateLimited(math.ceil(wait_ms / 1000))
