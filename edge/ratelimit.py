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


# Several checks in one round trip, in order, as consecutive calls of the script above would do:
# KEYS[i] = bucket i; ARGV[2i-1], ARGV[2i] = its interval and window (ms); each is consumed when it
# passes, and the first refusal stops there. Returns {0, 0} when all passed, else {i, wait ms}.
_GCRA_ALL = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local new_tat = tat + interval
  local wait = new_tat - now - window
  if wait > 0 then return {i, wait} end
  redis.call('SET', KEYS[i], new_tat, 'PX', math.max(new_tat - now, 1))
end
return {0, 0}
"""


# The script above on KEYS[1] (same ARGV), answering with the values of KEYS[2..] as well (MGET):
# {wait ms or 0, values}.
_GCRA_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local values = redis.call('MGET', unpack(KEYS, 2))
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - window
if wait > 0 then return {wait, values} end
if ARGV[3] == '1' then redis.call('SET', KEYS[1], new_tat, 'PX', math.max(new_tat - now, 1)) end
return {0, values}
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


def _script_args(limit: Limit, subject: str, consume: bool) -> tuple[Any, ...] | None:
    """The EVAL arguments of one check (None: the limit is off)."""
    if limit.limit <= 0 or limit.window <= 0:
        return None
    window_ms = limit.window * 1000
    interval_ms = max(1, window_ms // limit.limit)
    return (_GCRA, 1, limit.key(subject), interval_ms, window_ms, "1" if consume else "0")


def _judge(limit: Limit, wait_ms: int) -> None:
    if wait_ms > 0:
        log.info("ratelimit.refused", limit=limit.name, retry_after_ms=wait_ms)
        RATE_LIMITED.labels(limit.name).inc()  # a refused peek refuses the request too
        raise RateLimited(math.ceil(wait_ms / 1000))


async def check(redis: Any, limit: Limit, subject: str, *, consume: bool = True) -> None:
    """Count one request of ``subject`` against ``limit`` (or, with ``consume=False``, only ask
    whether one would pass); raise :class:`RateLimited` when over it."""
    args = _script_args(limit, subject, consume)
    if args is None:
        return
    try:
        wait_ms = int(await redis.eval(*args))
    except RedisError:
        log.warning("ratelimit.unavailable", limit=limit.name)
        return
    _judge(limit, wait_ms)


async def check_and_read(
    redis: Any, limit: Limit, subject: str, keys: list[str], *, consume: bool = True
) -> list[Any] | None:
    """:func:`check` and a ``MGET`` of ``keys`` in one round trip (one script: the check's verdict
    first, ``RateLimited`` as :func:`check` raises it). The values read, or None when the read failed."""
    args = _script_args(limit, subject, consume)
    if args is None:
        try:
            return list(await redis.mget(keys))
        except RedisError:
            return None
    _, _, bucket, interval_ms, window_ms, consumed = args
    try:
        wait, values = await redis.eval(_GCRA_READ, 1 + len(keys), bucket, *keys, interval_ms, window_ms, consumed)
    except RedisError:
        log.warning("ratelimit.unavailable", limit=limit.name)
        return None
    _judge(limit, int(wait))
    return list(values)


async def check_all(redis: Any, checks: list[tuple[Limit, str]]) -> None:
    """:func:`check` (consuming) of each ``(limit, subject)`` in turn, in one round trip: the first
    refusal raises and the later ones are not counted, as with consecutive calls."""
    active = [(limit, subject) for limit, subject in checks if limit.limit > 0 and limit.window > 0]
    if len(active) < 2:
        for limit, subject in active:
            await check(redis, limit, subject)
        return
    keys: list[str] = []
    argv: list[int] = []
    for limit, subject in active:
        window_ms = limit.window * 1000
        keys.append(limit.key(subject))
        argv += [max(1, window_ms // limit.limit), window_ms]
    try:
        refused, wait_ms = (int(v) for v in await redis.eval(_GCRA_ALL, len(keys), *keys, *argv))
    except RedisError:
        for limit, _ in active:
            log.warning("ratelimit.unavailable", limit=limit.name)
        return
    if refused:
        _judge(active[refused - 1][0], wait_ms)
