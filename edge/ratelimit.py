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

# One script for every check, so a guard's checks (and the auth cache read beside them) cost one
# round trip. KEYS[1..n] = buckets, KEYS[n+1..] = keys read (MGET) as well; ARGV[1] = n,
# ARGV[2] = consume (1) or only peek (0), then each bucket's interval (window / limit) and window
# in ms. The buckets are checked in order: one that passes is counted (when consuming), the first
# refusal stops there. Returns {0, 0, values} when all passed, else {i, ms until bucket i would
# pass, values}.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local values = {}
if #KEYS > n then values = redis.call('MGET', unpack(KEYS, n + 1)) end
for i = 1, n do
  local interval = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local new_tat = tat + interval
  local wait = new_tat - now - window
  if wait > 0 then return {i, wait, values} end
  if ARGV[2] == '1' then redis.call('SET', KEYS[i], new_tat, 'PX', math.max(new_tat - now, 1)) end
end
return {0, 0, values}
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


async def _run(
    redis: Any, checks: list[tuple[Limit, str]], read: list[str], *, consume: bool
) -> list[Any] | None:
    """The script over ``checks`` (limits that are off left out) and ``read``: raises
    :class:`RateLimited` for the first refusal; the values read, or None when Redis failed (the
    checks then let the request through)."""
    active = [(limit, subject) for limit, subject in checks if limit.limit > 0 and limit.window > 0]
    argv: list[Any] = [len(active), "1" if consume else "0"]
    for limit, _ in active:
        window_ms = limit.window * 1000
        argv += [max(1, window_ms // limit.limit), window_ms]
    keys = [limit.key(subject) for limit, subject in active] + read
    try:
        refused, wait_ms, values = await redis.eval(_GCRA, len(keys), *keys, *argv)
    except RedisError:
        for limit, _ in active:
            log.warning("ratelimit.unavailable", limit=limit.name)
        return None
    if int(refused):
        limit = active[int(refused) - 1][0]
        log.info("ratelimit.refused", limit=limit.name, retry_after_ms=int(wait_ms))
        RATE_LIMITED.labels(limit.name).inc()  # a refused peek refuses the request too
        raise RateLimited(math.ceil(int(wait_ms) / 1000))
    return list(values)


async def check(redis: Any, limit: Limit, subject: str, *, consume: bool = True) -> None:
    """Count one request of ``subject`` against ``limit`` (or, with ``consume=False``, only ask
    whether one would pass); raise :class:`RateLimited` when over it."""
    if limit.limit > 0 and limit.window > 0:
        await _run(redis, [(limit, subject)], [], consume=consume)


async def check_and_read(
    redis: Any, limit: Limit, subject: str, keys: list[str], *, consume: bool = True
) -> list[Any] | None:
    """:func:`check` and a ``MGET`` of ``keys`` in one round trip (``RateLimited`` as :func:`check`
    raises it). The values read, or None when the read failed."""
    return await _run(redis, [(limit, subject)], keys, consume=consume)


async def check_all(redis: Any, checks: list[tuple[Limit, str]]) -> None:
    """:func:`check` (consuming) of each ``(limit, subject)`` in turn, in one round trip: the first
    refusal raises and the later ones are not counted, as with consecutive calls."""
    if any(limit.limit > 0 and limit.window > 0 for limit, _ in checks):
        await _run(redis, checks, [], consume=True)
