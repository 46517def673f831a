"""Shared machinery of the DingTalk / WeCom / Feishu login stand-ins: a router of (method, path)
to handlers on the HTTP stand-in base, the platform's clock (tests move it, never the wall
clock's date), people of the organisation, single-use expiring codes bound to the app they were
issued for, and app tokens that expire."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tests.standins._http import HttpStandIn, Received, Refuse, Reply, Request

CODE_SECONDS = 300
TOKEN_SECONDS = 7200
_ids = itertools.count(1)


@dataclass
class Person:
    """Someone who can sign in at the platform. ``userid`` is None for a person outside the
    organisation (they have a platform account but are not a member)."""

    handle: str
    userid: str | None
    unionid: str
    name: str = "测试用户"
    mobile: str = ""
    email: str = ""
    org_email: str = ""
    can_use_app: bool = True  # inside the app's availability (visible range)


@dataclass
class Code:
    person: Person
    app: str  # the app (client id / agent) it was issued for
    kind: str  # "oauth" | "jsapi" | "web"
    issued_at: float
    used: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Token:
    value: str
    app: str
    expires_at: float
    extra: dict[str, Any] = field(default_factory=dict)


Handler = Callable[[Request], Reply]


def redirect(url: str, params: dict[str, str]) -> Reply:
    """302 to ``url`` with ``params`` added to its query (what the login pages do)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return Reply(302, {}, {"location": urlunsplit(parts._replace(query=urlencode(query)))})


class LoginStandIn(HttpStandIn):
    """Subclasses fill ``routes`` and implement the platform's checks. Tests: ``add_person``,
    ``scan_as`` (who is signed in at the platform's login page), ``advance`` (the platform clock),
    ``expire_tokens``, ``count(path)``, and ``fail_next`` from the base."""

    def __init__(self) -> None:
        super().__init__(rate_limit=None)
        self.offset = 0.0
        self.people: dict[str, Person] = {}
        self.codes: dict[str, Code] = {}
        self.tokens: dict[str, Token] = {}
        self.scan_as: str | None = None
        self.calls: list[tuple[str, str]] = []
        self.token_fetches: Counter[str] = Counter()  # app → app tokens handed out
        self.routes: dict[tuple[str, str], Handler] = {}

    # ---- test controls ----
    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.offset += seconds

    def add_person(self, handle: str, *, member: bool = True, **attrs: Any) -> Person:
        n = next(_ids)
        person = Person(handle=handle, userid=attrs.pop("userid", handle) if member else None,
                        unionid=attrs.pop("unionid", f"union{n}{secrets.token_hex(6)}"), **attrs)
        with self._lock:
            self.people[handle] = person
        return person

    def expire_tokens(self) -> None:
        """Every app token issued so far is expired from now on (the platform says so)."""
        with self._lock:
            for token in self.tokens.values():
                token.expires_at = min(token.expires_at, self.now() - 1)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(1 for _, p in self.calls if p == path)

    def refusals(self, reason: str) -> int:
        with self._lock:
            return sum(1 for r in self.rejected if r.reason == reason)

    # ---- for subclasses ----
    def issue_code(self, person: Person, app: str, kind: str, **extra: Any) -> str:
        code = secrets.token_hex(16)
        self.codes[code] = Code(person=person, app=app, kind=kind, issued_at=self.now(), extra=extra)
        return code

    def take_code(self, code: str, app: str, kind: str) -> Code | None:
        """The code if it exists, was issued to ``app`` for ``kind``, is unused and younger than
        5 minutes; it is used up by this attempt whatever the outcome (as the platforms do)."""
        found = self.codes.get(code)
        if found is None or found.used:
            return None
        found.used = True
        if found.app != app or found.kind != kind or self.now() - found.issued_at > CODE_SECONDS:
            return None
        return found

    def app_token(self, app: str, **extra: Any) -> Token:
        """The app's live token, or a new one (the platforms answer the same token while valid)."""
        self.token_fetches[app] += 1
        for token in self.tokens.values():
            if token.app == app and token.expires_at > self.now() + 60:
                return token
        token = Token(secrets.token_hex(20), app, self.now() + TOKEN_SECONDS, extra)
        self.tokens[token.value] = token
        return token

    def token_state(self, value: str) -> tuple[str, Token | None]:
        """("missing" | "invalid" | "expired" | "ok", token)."""
        if not value:
            return "missing", None
        token = self.tokens.get(value)
        if token is None:
            return "invalid", None
        if token.expires_at <= self.now():
            return "expired", token
        return "ok", token

    def person_scanning(self) -> Person | None:
        return self.people.get(self.scan_as) if self.scan_as else None

    @staticmethod
    def json_body(request: Request, refuse: Refuse) -> dict[str, Any]:
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            raise refuse
        try:
            body = json.loads(request.body.decode() or "null")
        except (ValueError, UnicodeDecodeError):
            raise refuse from None
        if not isinstance(body, dict):
            raise refuse
        return body

    # ---- request handling (replaces the message receiver's) ----
    def _decide(self, request: Request) -> tuple[Reply, bool]:
        with self._lock:
            self.requests += 1
            self.calls.append((request.method, request.path))
            if self._failures:
                mode, errcode = self._failures.popleft()
                if mode == "timeout":
                    return Reply(500, {"error": "injected timeout"}), True
                if mode == "errcode":
                    return self.platform_error(errcode if errcode is not None else self.default_errcode,
                                               "injected"), False
                return Reply(int(mode), {"error": "injected"}), False
            handler = self.routes.get((request.method, request.path))
            if handler is None:
                return self._reject(request, "not_found", Reply(404, {"error": "not found"}))
            try:
                reply = handler(request)
            except Refuse as refused:
                return self._reject(request, refused.reason, refused.reply)
            self.received.append(Received({}, request.headers, request.query, request.at, request.path))
            return reply, False
