"""Feishu self-built app stand-in: the tenant token, personal message cards (send + patch) and
the task v2 API, checked as Feishu checks them.

* ``POST /open-apis/auth/v3/tenant_access_token/internal`` {app_id, app_secret} → {code 0,
  tenant_access_token, expire}; an unknown app → 10003, a wrong secret → 10014.
* Every other call: ``Authorization: Bearer <tenant_access_token>`` — missing → HTTP 400 code
  99991661, unknown or expired (``expire_tokens()``) → HTTP 400 code 99991663.
* Rate limit (``rate_limit`` calls per ``rate_window`` seconds, token calls excluded) → HTTP 429
  code 99991400 with ``x-ogw-ratelimit-limit`` / ``x-ogw-ratelimit-reset`` (``reset_seconds``).
* ``POST /open-apis/im/v1/messages?receive_id_type=…``: the type one of user_id / open_id /
  union_id / email / chat_id (else 230001), ``receive_id`` a known person of the tenant (user_id or
  open_id; else 230001 "invalid receive_id"), inside the app's availability (else 230013);
  ``msg_type`` "interactive" with ``content`` a JSON *string* of a card with a ``header.title``
  and non-empty ``elements`` each carrying a ``tag``, button URLs http(s) (else 230099); ``uuid``
  ≤ 50 chars — the same uuid within an hour answers the first message again, nothing is sent.
* ``PATCH /open-apis/im/v1/messages/{message_id}`` {content}: a message this app sent (unknown →
  230001 invalid message_id; another app's → 230012), whose original *and* new card declare
  ``config.update_multi: true`` (else 230099), sent less than 14 days ago on the stand-in's clock
  (else 230031).
* ``POST /open-apis/task/v2/tasks?user_id_type=…``: ``summary`` 1–256 chars, ``members`` each a
  known person with role assignee / follower, ``origin.href.url`` http(s), ``due.timestamp`` a
  millisecond string (else 1470400); the same ``client_token`` answers the first task again.
* ``PATCH /open-apis/task/v2/tasks/{guid}`` {task, update_fields}: the app's task (else 1470404),
  ``update_fields`` non-empty and naming only fields given in ``task`` (else 1470400).
  ``DELETE /open-apis/task/v2/tasks/{guid}``: the app's live task (else 1470404).

Tests: ``add_app()``, ``add_person(handle, userid=…, can_use_app=…)``, ``expire_tokens()``,
``advance(seconds)``, ``fail_next(n, mode, errcode)`` ("errcode" → HTTP 400 with that code, "429",
"500", "timeout"), ``messages`` / ``tasks`` (what Feishu holds), ``count(path_prefix)``."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.standins._http import Received, Refuse, Reply, Request
from tests.standins._login import LoginStandIn, Person

RECEIVE_ID_TYPES = frozenset({"user_id", "open_id", "union_id", "email", "chat_id"})
PATCH_DAYS = 14
UUID_SECONDS = 3600


def _err(status: int, code: int, msg: str) -> Refuse:
    return Refuse(f"code:{code}", Reply(status, {"code": code, "msg": msg}))


@dataclass
class Message:
    message_id: str
    app: str
    receive_id: str
    card: dict[str, Any]
    sent_at: float
    uuid: str = ""
    patches: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Task:
    guid: str
    app: str
    body: dict[str, Any]
    client_token: str = ""
    completed_at: str = "0"
    deleted: bool = False
    patches: list[dict[str, Any]] = field(default_factory=list)


class FeishuAppStandIn(LoginStandIn):
    def __init__(self, *, rate_limit: int | None = None, rate_window: float = 1.0, reset_seconds: int = 2) -> None:
        super().__init__()
        self.app_limit, self.app_window, self.reset_seconds = rate_limit, rate_window, reset_seconds
        self.apps: dict[str, str] = {}
        self.messages: dict[str, Message] = {}
        self.tasks: dict[str, Task] = {}
        self._api_calls: list[float] = []

    # ---- test controls ----
    def add_app(self) -> tuple[str, str]:
        app, secret = "cli_" + secrets.token_hex(8), secrets.token_hex(16)
        with self._lock:
            self.apps[app] = secret
        return app, secret

    def open_id(self, person: Person) -> str:
        return "ou_" + person.unionid

    def cards_to(self, userid: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages.values() if m.receive_id == userid]

    def tasks_of(self, userid: str) -> list[Task]:
        with self._lock:
            return [t for t in self.tasks.values()
                    if any(m.get("id") == userid for m in t.body.get("members") or [])]

    def count(self, path: str) -> int:
        """Calls whose path starts with ``path`` (the base counts exact paths)."""
        with self._lock:
            return sum(1 for _, p in self.calls if p.startswith(path))

    def platform_error(self, errcode: int, reason: str) -> Reply:
        return Reply(400, {"code": errcode, "msg": reason})

    # ---- checks ----
    def _person(self, kind: str, value: str) -> Person | None:
        for p in self.people.values():
            if p.userid is None:
                continue
            if (kind == "user_id" and p.userid == value) or (kind == "open_id" and self.open_id(p) == value) \
                    or (kind == "union_id" and p.unionid == value) or (kind == "email" and p.email == value):
                return p
        return None

    def _app_of(self, r: Request) -> str:
        value = r.headers.get("authorization", "")
        bearer = value[7:] if value.startswith("Bearer ") else ""
        state, token = self.token_state(bearer)
        if state == "missing":
            raise _err(400, 99991661, "Missing access token for authorization")
        if state != "ok" or token is None:
            raise _err(400, 99991663, "Invalid access token for authorization")
        return token.app

    def _rate_limited(self, r: Request) -> Reply | None:
        if self.app_limit is None:
            return None
        now = time.monotonic()
        self._api_calls = [t for t in self._api_calls if now - t < self.app_window]
        if len(self._api_calls) >= self.app_limit:
            return Reply(429, {"code": 99991400, "msg": "request trigger frequency limit"},
                         {"x-ogw-ratelimit-limit": str(self.app_limit),
                          "x-ogw-ratelimit-reset": str(self.reset_seconds)})
        self._api_calls.append(now)
        return None

    @staticmethod
    def _card(content: Any) -> dict[str, Any]:
        bad = _err(400, 230099, "Failed to create card content")
        if not isinstance(content, str):
            raise bad
        try:
            card = json.loads(content)
        except ValueError:
            raise bad from None
        if not isinstance(card, dict):
            raise bad
        title = ((card.get("header") or {}).get("title") or {}).get("content")
        elements = card.get("elements")
        if not isinstance(title, str) or not title or not isinstance(elements, list) or not elements:
            raise bad
        for element in elements:
            if not isinstance(element, dict) or not element.get("tag"):
                raise bad
            for action in element.get("actions") or []:
                url = action.get("url", "") if isinstance(action, dict) else ""
                if action.get("tag") == "button" and url and not str(url).startswith(("http://", "https://")):
                    raise bad
        return card

    @staticmethod
    def _shared(card: dict[str, Any]) -> bool:
        return (card.get("config") or {}).get("update_multi") is True

    # ---- routes ----
    def token(self, r: Request) -> Reply:
        body = self.json_body(r, _err(400, 9499, "Bad Request"))
        app, secret = str(body.get("app_id", "")), str(body.get("app_secret", ""))
        if app not in self.apps:
            raise _err(200, 10003, "invalid param")
        if self.apps[app] != secret:
            raise _err(200, 10014, "app secret invalid")
        token = self.app_token(app)
        return Reply(200, {"code": 0, "msg": "ok", "tenant_access_token": token.value,
                           "expire": int(token.expires_at - self.now())})

    def send_message(self, r: Request, app: str) -> Reply:
        body = self.json_body(r, _err(400, 230001, "invalid request body"))
        kind = r.query.get("receive_id_type", "")
        if kind not in RECEIVE_ID_TYPES:
            raise _err(400, 230001, "Your request contains an invalid request parameter, ext=invalid receive_id_type.")
        person = self._person(kind, str(body.get("receive_id", "")))
        if person is None:
            raise _err(400, 230001, "Your request contains an invalid request parameter, ext=invalid receive_id.")
        if not person.can_use_app:
            raise _err(400, 230013, "Bot has NO availability to this user.")
        if body.get("msg_type") != "interactive":
            raise _err(400, 230001, "unsupported msg_type")
        card = self._card(body.get("content"))
        key = str(body.get("uuid") or "")
        if len(key) > 50:
            raise _err(400, 230001, "uuid is too long")
        if key:
            for m in self.messages.values():
                if m.app == app and m.uuid == key and self.now() - m.sent_at < UUID_SECONDS:
                    self.duplicates += 1
                    return self._message_reply(m)
        msg = Message("om_" + uuid.uuid4().hex, app, str(person.userid), card, self.now(), key)
        self.messages[msg.message_id] = msg
        return self._message_reply(msg)

    def _message_reply(self, m: Message) -> Reply:
        return Reply(200, {"code": 0, "msg": "success", "data": {
            "message_id": m.message_id, "msg_type": "interactive", "create_time": str(int(m.sent_at * 1000)),
            "body": {"content": json.dumps(m.card, ensure_ascii=False)}}})

    def patch_message(self, r: Request, app: str, message_id: str) -> Reply:
        body = self.json_body(r, _err(400, 230001, "invalid request body"))
        msg = self.messages.get(message_id)
        if msg is None:
            raise _err(400, 230001, "Your request contains an invalid request parameter, ext=invalid message_id.")
        if msg.app != app:
            raise _err(400, 230012, "Bot is NOT the sender of the message.")
        if self.now() - msg.sent_at > PATCH_DAYS * 86400:
            raise _err(400, 230031, "Message can only be modified within 14 days after sending.")
        card = self._card(body.get("content"))
        if not (self._shared(msg.card) and self._shared(card)):
            raise _err(400, 230099, "Failed to create card content, ext=update_multi must be true")
        msg.card = card
        msg.patches.append(card)
        return Reply(200, {"code": 0, "msg": "success", "data": {}})

    def create_task(self, r: Request, app: str) -> Reply:
        bad = _err(400, 1470400, "The request failed due to incorrect request parameters.")
        body = self.json_body(r, bad)
        kind = r.query.get("user_id_type", "open_id")
        summary = body.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 256:
            raise bad
        members = body.get("members") or []
        if not isinstance(members, list):
            raise bad
        for m in members:
            if not isinstance(m, dict) or m.get("role") not in ("assignee", "follower") \
                    or m.get("type", "user") != "user" or self._person(kind, str(m.get("id", ""))) is None:
                raise bad
        href = ((body.get("origin") or {}).get("href") or {}).get("url", "")
        if href and not str(href).startswith(("http://", "https://", "applink")):
            raise _err(400, 1470400, "failed to parse url of origin, should start with http, https or applink")
        due = (body.get("due") or {}).get("timestamp")
        if due is not None and not (isinstance(due, str) and due.isdigit() and len(due) == 13):
            raise bad
        token = str(body.get("client_token") or "")
        if token:
            for t in self.tasks.values():
                if t.app == app and t.client_token == token:
                    self.duplicates += 1
                    return self._task_reply(t)
        task = Task(str(uuid.uuid4()), app, body, token)
        self.tasks[task.guid] = task
        return self._task_reply(task)

    def _task_reply(self, t: Task) -> Reply:
        return Reply(200, {"code": 0, "msg": "success", "data": {"task": {
            "guid": t.guid, "summary": t.body.get("summary"), "completed_at": t.completed_at,
            "members": t.body.get("members") or [], "url": f"https://applink.feishu.cn/client/todo/detail?guid={t.guid}"}}})

    def _task(self, app: str, guid: str) -> Task:
        task = self.tasks.get(guid)
        if task is None or task.deleted or task.app != app:
            raise _err(400, 1470404, "task not found")
        return task

    def patch_task(self, r: Request, app: str, guid: str) -> Reply:
        bad = _err(400, 1470400, "The request failed due to incorrect request parameters.")
        body = self.json_body(r, bad)
        task = self._task(app, guid)
        fields, values = body.get("update_fields"), body.get("task")
        if not isinstance(fields, list) or not fields or not isinstance(values, dict) \
                or any(f not in values for f in fields):
            raise bad
        if "completed_at" in fields:
            done = values["completed_at"]
            if not (isinstance(done, str) and done.isdigit()):
                raise bad
            task.completed_at = done
        task.patches.append(body)
        return self._task_reply(task)

    def delete_task(self, app: str, guid: str) -> Reply:
        self._task(app, guid).deleted = True
        return Reply(200, {"code": 0, "msg": "success", "data": {}})

    def route(self, r: Request) -> Reply:
        if (r.method, r.path) == ("POST", "/open-apis/auth/v3/tenant_access_token/internal"):
            return self.token(r)
        app = self._app_of(r)
        limited = self._rate_limited(r)
        if limited is not None:
            raise Refuse("rate_limited", limited)
        parts = r.path.strip("/").split("/")
        if parts[:4] == ["open-apis", "im", "v1", "messages"]:
            if r.method == "POST" and len(parts) == 4:
                return self.send_message(r, app)
            if r.method == "PATCH" and len(parts) == 5:
                return self.patch_message(r, app, parts[4])
        if parts[:4] == ["open-apis", "task", "v2", "tasks"]:
            if r.method == "POST" and len(parts) == 4:
                return self.create_task(r, app)
            if r.method == "PATCH" and len(parts) == 5:
                return self.patch_task(r, app, parts[4])
            if r.method == "DELETE" and len(parts) == 5:
                return self.delete_task(app, parts[4])
        raise Refuse("not_found", Reply(404, {"code": 404, "msg": "404 page not found"}))

    # ---- request handling ----
    def _decide(self, request: Request) -> tuple[Reply, bool]:
        with self._lock:
            self.requests += 1
            self.calls.append((request.method, request.path))
            if self._failures:
                mode, errcode = self._failures.popleft()
                if mode == "timeout":
                    return Reply(500, {"error": "injected timeout"}), True
                if mode == "errcode":
                    return self._reject(request, f"injected:errcode:{errcode}",
                                        self.platform_error(errcode if errcode is not None else 1500, "injected"))
                if mode == "429":
                    return self._reject(request, "injected:429", Reply(
                        429, {"code": 99991400, "msg": "request trigger frequency limit"},
                        {"x-ogw-ratelimit-reset": str(self.reset_seconds)}))
                return self._reject(request, f"injected:{mode}", Reply(int(mode), {"code": 1500, "msg": "injected"}))
            try:
                reply = self.route(request)
            except Refuse as refused:
                if refused.reason == "rate_limited":
                    self.rate_limited += 1
                return self._reject(request, refused.reason, refused.reply)
            self.received.append(Received({}, request.headers, request.query, request.at, request.path))
            return reply, False
