"""Browser sessions, kept server-side in Redis.

The cookie ``bb_session`` holds a random id (HttpOnly, SameSite=Lax, Secure on HTTPS); Redis
keeps the record under the id's SHA-256 only, so a dump of Redis holds no usable cookie. Each
record has a public ``id`` (for the session list and revoking one session), the user, how they
signed in, the CSRF token, and the idle and absolute deadlines. Every user has an index of their
sessions so "sign out everywhere" and a departure end all of them at once.

CSRF: a state-changing request authenticated by the cookie must carry ``X-CSRF-Token`` equal to
the session's token (also readable by the page from the ``bb_csrf`` cookie); SameSite=Lax alone
would still let a same-site page post. Bearer-token requests carry no ambient credential and need
no CSRF token."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from redis.asyncio import Redis
from starlette.requests import HTTPConnection
from starlette.responses import Response

from baobei.core.settings import Settings

log = structlog.get_logger(__name__)
COOKIE = "bb_session"
CSRF_COOKIE = "bb_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# last_seen is written back at most this often (idle deadlines are precise to this).
TOUCH_SECONDS = 60
_PREFIX = "baobei:edge:session:"
# What a restricted session may still call (besides /auth/...): who am I, and enrolling TOTP.
RESTRICTED_ALLOWED = ("/api/v1/me", "/api/v1/me/totp", "/api/v1/me/totp/confirm")


def allowed_while_restricted(path: str) -> bool:
    return path.rstrip("/") in RESTRICTED_ALLOWED


def now() -> datetime:
    """The sessions' clock (a seam: tests move it)."""
    return datetime.now(UTC)


@dataclass
class SessionRecord:
    id: str  # public handle, never the cookie
    user_id: str
    method: str  # password | oidc | ldap | dingtalk | wecom | feishu | ...
    provider: str  # the provider key for SSO methods
    csrf: str
    created_at: float
    last_seen_at: float
    absolute_expires_at: float
    ip: str = ""
    user_agent: str = ""
    # Set while the user must do something before anything else: "totp_enrolment_required" (a
    # role requires TOTP and none is enrolled). Only RESTRICTED_ALLOWED paths answer meanwhile.
    restriction: str = ""

    def idle_expires_at(self, settings: Settings) -> float:
        return min(self.last_seen_at + settings.session_idle_minutes * 60, self.absolute_expires_at)

    def public(self, settings: Settings, *, current: bool = False) -> dict[str, Any]:
        def iso(t: float) -> str:  # whole seconds, "Z" like every other timestamp of the API
            return datetime.fromtimestamp(int(t), UTC).isoformat().replace("+00:00", "Z")

        return {
            "id": self.id, "method": self.method, "provider": self.provider or None,
            "created_at": iso(self.created_at), "last_seen_at": iso(self.last_seen_at),
            "expires_at": iso(self.idle_expires_at(settings)), "absolute_expires_at": iso(self.absolute_expires_at),
            "ip": self.ip, "user_agent": self.user_agent, "current": current,
        }


_FIELDS = frozenset(SessionRecord.__dataclass_fields__)
_REPLACE_IF_UNCHANGED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return false
"""


def _record(raw: str | bytes) -> SessionRecord:
    """A stored session; fields this edge does not know (written by a newer replica during a
    rolling upgrade) are ignored rather than failing every request of that session."""
    data = json.loads(raw)
    return SessionRecord(**{k: v for k, v in data.items() if k in _FIELDS})


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _key(digest: str) -> str:
    return _PREFIX + digest


def _user_index(user_id: str) -> str:
    return _PREFIX + "user:" + hashlib.sha256(user_id.encode()).hexdigest()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _texts(mapping: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in mapping.items()}


class SessionStore:
    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis, self.settings = redis, settings

    def _ttl(self, record: SessionRecord, at: float) -> int:
        return max(1, int(record.idle_expires_at(self.settings) - at) + 1)

    async def create(self, *, user_id: str, method: str, provider: str = "", ip: str = "",
                     user_agent: str = "", restriction: str = "") -> tuple[str, SessionRecord]:
        """A new session (a new id at every sign-in: a session id planted before it is worthless)."""
        at = now().timestamp()
        sid = secrets.token_urlsafe(32)
        record = SessionRecord(
            id=secrets.token_hex(8), user_id=user_id, method=method, provider=provider,
            csrf=secrets.token_urlsafe(32), created_at=at, last_seen_at=at,
            absolute_expires_at=at + self.settings.session_absolute_hours * 3600,
            ip=ip[:64], user_agent=user_agent[:300], restriction=restriction,
        )
        digest = _digest(sid)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(_key(digest), json.dumps(asdict(record)), ex=self._ttl(record, at))
            pipe.hset(_user_index(user_id), record.id, digest)
            pipe.expire(_user_index(user_id), self.settings.session_absolute_hours * 3600 + 60)
            await pipe.execute()
        log.info("session.created", user_id=user_id, session=record.id, method=method)
        return sid, record

    async def load(self, sid: str) -> SessionRecord | None:
        """The live session of a cookie value, its idle deadline moved on; None when unknown,
        idle too long or past its absolute lifetime (then it is deleted)."""
        if not sid or len(sid) > 128:
            return None
        digest = _digest(sid)
        raw = await self.redis.get(_key(digest))
        if not raw:
            return None
        record = _record(raw)
        at = now().timestamp()
        if at >= record.idle_expires_at(self.settings):
            await self._delete(record.user_id, record.id, digest)
            return None
        if at - record.last_seen_at >= TOUCH_SECONDS:
            record.last_seen_at = at
            # Only over the record as read: never resurrect a session revoked meanwhile, nor undo a
            # change made meanwhile (a lifted restriction); a skipped touch is retried next request.
            await self._replace(digest, raw, record, at)
        return record

    async def _replace(self, digest: str, seen: str | bytes, record: SessionRecord, at: float) -> bool:
        """Write ``record`` if the stored one is still ``seen`` (compare-and-set in Redis)."""
        done = await self.redis.eval(
            _REPLACE_IF_UNCHANGED, 1, _key(digest), seen, json.dumps(asdict(record)), self._ttl(record, at))
        return bool(done)

    async def lift_restriction(self, sid: str) -> bool:
        """The user did what the restriction asked (enrolled TOTP): the session is unrestricted."""
        if not sid or len(sid) > 128:
            return False
        digest = _digest(sid)
        for _ in range(5):  # a concurrent touch changed the record: read it again
            raw = await self.redis.get(_key(digest))
            if not raw:
                return False
            record = _record(raw)
            record.restriction = ""
            if await self._replace(digest, raw, record, now().timestamp()):
                return True
        return False

    async def _delete(self, user_id: str, public_id: str, digest: str) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(_key(digest))
            pipe.hdel(_user_index(user_id), public_id)
            await pipe.execute()

    async def end(self, sid: str) -> SessionRecord | None:
        """Sign out the session of a cookie value (unknown ones are ignored)."""
        if not sid or len(sid) > 128:
            return None
        digest = _digest(sid)
        raw = await self.redis.get(_key(digest))
        if not raw:
            return None
        record = _record(raw)
        await self._delete(record.user_id, record.id, digest)
        log.info("session.ended", user_id=record.user_id, session=record.id)
        return record

    async def list_user(self, user_id: str) -> list[SessionRecord]:
        """The user's live sessions, newest first (dead index entries are pruned)."""
        index = _texts(await self.redis.hgetall(_user_index(user_id)))
        out: list[SessionRecord] = []
        at = now().timestamp()
        for public_id, digest in index.items():
            raw = await self.redis.get(_key(digest))
            record = _record(raw) if raw else None
            if record is None or at >= record.idle_expires_at(self.settings):
                await self._delete(user_id, public_id, digest)
                continue
            out.append(record)
        return sorted(out, key=lambda r: r.created_at, reverse=True)

    async def revoke(self, user_id: str, public_id: str) -> bool:
        digest = await self.redis.hget(_user_index(user_id), public_id)
        if not digest:
            return False
        await self._delete(user_id, public_id, _text(digest))
        log.info("session.revoked", user_id=user_id, session=public_id)
        return True

    async def revoke_user(self, user_id: str, *, keep: str = "") -> int:
        """End every session of a user (sign out everywhere, departure, password reset), except
        the public id ``keep``. Returns how many ended."""
        index = _texts(await self.redis.hgetall(_user_index(user_id)))
        ended = 0
        for public_id, digest in index.items():
            if public_id == keep:
                continue
            await self._delete(user_id, public_id, digest)
            ended += 1
        if ended:
            log.info("session.revoked_all", user_id=user_id, ended=ended)
        return ended


def store_of(connection: HTTPConnection) -> SessionStore:
    deps = connection.app.state.deps
    return SessionStore(deps.redis, connection.app.state.settings)


def cookie_secure(settings: Settings, connection: HTTPConnection) -> bool:
    mode = settings.session_cookie_secure.strip().lower()
    if mode in ("always", "true", "1", "yes"):
        return True
    if mode in ("never", "false", "0", "no"):
        return False
    forwarded = connection.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return (settings.public_base_url().startswith("https://") or connection.url.scheme == "https"
            or forwarded == "https")


def set_cookies(response: Response, connection: HTTPConnection, settings: Settings, sid: str,
                record: SessionRecord) -> None:
    secure = cookie_secure(settings, connection)
    max_age = int(record.absolute_expires_at - record.created_at)
    response.set_cookie(COOKIE, sid, max_age=max_age, path="/", httponly=True, secure=secure, samesite="lax")
    # Readable by the page, which echoes it in X-CSRF-Token; worthless without the session cookie.
    response.set_cookie(CSRF_COOKIE, record.csrf, max_age=max_age, path="/", httponly=False, secure=secure,
                        samesite="lax")


def clear_cookies(response: Response, connection: HTTPConnection, settings: Settings) -> None:
    secure = cookie_secure(settings, connection)
    for name, http_only in ((COOKIE, True), (CSRF_COOKIE, False)):
        response.delete_cookie(name, path="/", httponly=http_only, secure=secure, samesite="lax")


def csrf_ok(record: SessionRecord, method: str, presented: str | None) -> bool:
    if method.upper() in SAFE_METHODS:
        return True
    return bool(presented) and hmac.compare_digest(str(presented).encode(), record.csrf.encode())


def expires_in(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.session_idle_minutes)
