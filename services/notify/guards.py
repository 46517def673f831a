"""Redis guards of the delivery path: the per-delivery key (exactly-once with the database as
the record), short locks, and the per-robot sliding-window rate limiter.

Keys:
- ``baobei:delivery:<id>`` = ``inflight:<token>`` (short TTL) while one attempt sends, then
  ``delivered`` (long TTL) once the channel accepted it, before the database records it, so an
  attempt retried after a crash between the send and the commit repairs the record instead of
  sending twice.
- ``baobei:notify:lock:<name>`` short mutual-exclusion locks (digest per robot).
- ``baobei:robot-rate:<key>`` ZSET of send times within the window."""

from __future__ import annotations

import uuid
from typing import Any, cast

import redis

DELIVERY_PREFIX = "baobei:delivery:"
LOCK_PREFIX = "baobei:notify:lock:"
RATE_PREFIX = "baobei:robot-rate:"
DELIVERED = "delivered"
DELIVERED_TTL_SECONDS = 14 * 24 * 3600

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# Sliding window: drop entries older than the window, admit when below the limit, else report
# how long until the oldest entry leaves. Server time, so every notify replica agrees.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return {1, '0'}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tostring(tonumber(oldest[2]) + window - now)}
"""


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)


class Guards:
    def __init__(self, client: redis.Redis, *, rate_per_window: int, window_seconds: float = 60.0) -> None:
        self.r = client
        self.rate = max(1, rate_per_window)
        self.window = window_seconds
        self._release = client.register_script(_RELEASE)
        self._acquire = client.register_script(_ACQUIRE)

    # ---- delivery key ----
    def delivery_state(self, delivery_id: str) -> str | None:
        return cast(str | None, self.r.get(DELIVERY_PREFIX + delivery_id))

    def claim_delivery(self, delivery_id: str, ttl_seconds: float) -> str | None:
        """A token when this caller may send now; None when another attempt holds the key or the
        delivery is already marked delivered (read ``delivery_state`` to tell which)."""
        token = "inflight:" + uuid.uuid4().hex
        ok = self.r.set(DELIVERY_PREFIX + delivery_id, token, nx=True, px=int(ttl_seconds * 1000))
        return token if ok else None

    def mark_delivered(self, delivery_id: str) -> None:
        self.r.set(DELIVERY_PREFIX + delivery_id, DELIVERED, ex=DELIVERED_TTL_SECONDS)

    def release_delivery(self, delivery_id: str, token: str) -> None:
        self._release(keys=[DELIVERY_PREFIX + delivery_id], args=[token])

    def forget_delivery(self, delivery_id: str) -> None:
        """Redrive: a dead letter may be sent again."""
        self.r.delete(DELIVERY_PREFIX + delivery_id)

    # ---- locks ----
    def lock(self, name: str, ttl_seconds: float) -> str | None:
        token = uuid.uuid4().hex
        ok = self.r.set(LOCK_PREFIX + name, token, nx=True, px=int(ttl_seconds * 1000))
        return token if ok else None

    def unlock(self, name: str, token: str) -> None:
        self._release(keys=[LOCK_PREFIX + name], args=[token])

    # ---- robot rate limit ----
    def acquire_slot(self, robot_key: str) -> tuple[bool, float]:
        """(True, 0) and a slot taken, or (False, seconds until one frees)."""
        res = cast(list[Any], self._acquire(keys=[RATE_PREFIX + robot_key], args=[self.window, self.rate,
                                                                                  uuid.uuid4().hex]))
        ok = int(res[0]) == 1
        wait = max(0.0, float(res[1])) if not ok else 0.0
        return ok, (round(wait, 3) + 0.05 if not ok else 0.0)

    def sent_in_window(self, robot_key: str) -> int:
        return int(self.r.zcard(RATE_PREFIX + robot_key))
