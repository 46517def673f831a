"""Feishu (飞书) self-built app (企业自建应用): personal message cards and Feishu tasks (任务).

Docs (open.feishu.cn/document, mirrored at open.larkoffice.com):

* Token: ``POST /open-apis/auth/v3/tenant_access_token/internal`` {app_id, app_secret} →
  {code 0, tenant_access_token, expire (s)}; 10003 / 10014 = unknown app / wrong secret. The edge's
  Feishu sign-in caches the *app* access token (``app_access_token/internal``) under
  ``cache_key("feishu", …)``; this is another kind of token (the one the IM and task APIs take),
  so it has its own entry, ``cache_key("feishu_tenant", api_base, app_id, app_secret)``, shared
  by every notify worker (``SyncAppTokens``: refreshed by one caller, the rest wait).
* Recipients are addressed by the tenant **user_id** (``receive_id_type=user_id``,
  ``user_id_type=user_id``): the Feishu org sync keeps ``user_id`` as the Baobei user id and the
  sign-in matches on it, so a user's id *is* their Feishu id (the app needs the "获取用户 user ID"
  permission, ``contact:user.employee_id:readonly``).
* Card: ``POST /open-apis/im/v1/messages?receive_id_type=user_id`` {receive_id, msg_type:
  "interactive", content: <card JSON as a string>, uuid} — ``uuid`` (≤ 50 chars) deduplicates
  sends for an hour, it is the delivery id. The card has ``config.update_multi: true`` (a shared
  card): only such cards may be patched, and the patch must declare it too.
* Update: ``PATCH /open-apis/im/v1/messages/{message_id}`` {content} — only by the app that sent
  it, only within **14 days** of sending (230031), not once recalled (230011). Past that the card
  cannot change: ``update_card`` logs and returns (the fallback: the task's to-do is still
  completed and the card's button opens the task page, which shows the decision).
* Task: ``POST /open-apis/task/v2/tasks?user_id_type=user_id`` {summary, description, due
  {timestamp ms, is_all_day}, origin {platform_i18n_name, href {url, title}}, members [{id, type:
  user, role: assignee}], client_token} → data.task.guid; ``client_token`` (the delivery id) makes
  a repeat return the same task. Done: ``PATCH /open-apis/task/v2/tasks/{guid}`` {task:
  {completed_at}, update_fields: ["completed_at"]}; removed: ``DELETE …/tasks/{guid}``.

Outcomes ("服务端错误码说明", each API's error table, and the 频控策略 page): ``code`` 0 is success.
Token codes 99991661 (missing), 99991663 (invalid / expired tenant token), 99991664, 99991668,
99991677 → ``TokenRejected`` (refreshed once). HTTP 429 / code 99991400 (gateway frequency
limit, wait ``x-ogw-ratelimit-reset`` seconds), 230020 (per-chat/user 5 QPS), 11232 (message
service limit), 1470450 / 1470451 (task API too fast) → retryable with that wait; HTTP 5xx,
1500-class internal codes and timeouts → retryable. The rest is permanent: 230001 (bad param /
unknown receive_id), 230002, 230006 (bot ability off), 230013 (user outside the app's
availability), 230027 (permission missing), 230099 (card rejected), 1470400 (bad task params),
1470403 (no permission) …; 1470404 on finishing means the task is already gone (done)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import redis
import structlog

from baobei.core.app_tokens import SyncAppTokens, TokenRejected, cache_key, with_app_token_sync
from services.notify.channels.base import DeliveryFailed, make_client, retry_after_of
from services.notify.im.base import Button, Card, CardState, ImApp, ImClient, Sent, Todo

log = structlog.get_logger(__name__)

OPEN = "https://open.feishu.cn"
TOKEN_KIND = "feishu_tenant"
TOKEN_CODES = frozenset({99991661, 99991663, 99991664, 99991668, 99991677})
RATE_LIMIT_CODES = frozenset({99991400, 230020, 11232, 1470450, 1470451})
# Internal errors the docs say to retry.
RETRYABLE_CODES = frozenset({1500, 1503, 1470500})
CARD_GONE = frozenset({230011, 230031})  # recalled / older than 14 days: it cannot change any more
TASK_GONE = 1470404
UUID_MAX = 50
SUMMARY_MAX = 256
DEFAULT_RATE_WAIT = 1.0
ORIGIN_NAME = {"zh_cn": "报备", "en_us": "Baobei"}


class FeishuError(DeliveryFailed):
    """A Feishu answer with a non-zero ``code`` (or an HTTP failure: code -1)."""

    def __init__(self, message: str, *, code: int, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message, retryable=retryable, retry_after=retry_after)
        self.code = code


def _code(body: Any) -> int:
    try:
        return int(body.get("code", -1)) if isinstance(body, dict) else -1
    except (TypeError, ValueError):
        return -1


def _rate_wait(resp: httpx.Response) -> float:
    """``x-ogw-ratelimit-reset``: seconds until the quota resets (Feishu's gateway header)."""
    raw = resp.headers.get("x-ogw-ratelimit-reset", "")
    try:
        wait = float(raw)
    except ValueError:
        wait = retry_after_of(resp.headers.get("retry-after")) or DEFAULT_RATE_WAIT
    return max(wait, 0.0) or DEFAULT_RATE_WAIT


def outcome(resp: httpx.Response, what: str) -> dict[str, Any]:
    """The ``data`` of a successful answer, else ``TokenRejected`` / ``FeishuError``."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    code, status = _code(body), resp.status_code
    msg = str(body.get("msg", "")) if isinstance(body, dict) else ""
    if status == 429 or code in RATE_LIMIT_CODES:
        raise FeishuError(f"feishu {what}: rate limited (code {code})", code=code, retryable=True,
                          retry_after=_rate_wait(resp))
    if code in TOKEN_CODES:
        raise TokenRejected()
    if 200 <= status < 300 and code == 0:
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else {}
    retryable = status >= 500 or code in RETRYABLE_CODES
    raise FeishuError(f"feishu {what}: HTTP {status} code {code} {msg}".rstrip(), code=code, retryable=retryable)


def card_json(card: Card, state: CardState | None = None) -> dict[str, Any]:
    """The interactive card: plain-text title, the (already escaped) markdown body, buttons that
    open their URLs; closed (``state``): grey header, the status line, no buttons. Always a shared
    card (``update_multi``) so it can be patched later."""
    elements: list[dict[str, Any]] = [{"tag": "div", "text": {"tag": "lark_md", "content": card.markdown}}]
    out: dict[str, Any] = {
        "config": {"wide_screen_mode": True, "update_multi": True},
        "header": {"title": {"tag": "plain_text", "content": card.title},
                   "template": "grey" if state is not None else "blue"},
        "elements": elements,
    }
    if card.url:
        out["card_link"] = {"url": card.url}
    if state is not None:
        elements.append({"tag": "hr"})
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": state.status}})
        return out
    buttons = card.buttons or ((Button("查看详情", card.url),) if card.url else ())
    if buttons:
        elements.append({"tag": "action", "actions": [
            {"tag": "button", "text": {"tag": "plain_text", "content": b.label},
             "type": "primary" if i == 0 else "default", "url": b.url}
            for i, b in enumerate(buttons)]})
    return out


class FeishuApp:
    """One Feishu app; thread-safe (the notify service sends from gRPC threads)."""

    def __init__(self, app: ImApp, redis_client: redis.Redis, timeout: float) -> None:
        self.app = app
        self.base = (app.api_base or OPEN).rstrip("/")
        self.http = make_client(timeout)
        self.tokens = SyncAppTokens(redis_client, cache_key(TOKEN_KIND, app.api_base, app.app_key, app.app_secret),
                                    self._fetch_token)

    def __repr__(self) -> str:
        return f"FeishuApp({self.app.key!r}, {self.base!r})"

    # ---- transport ----
    def _send(self, method: str, path: str, *, token: str = "", params: dict[str, str] | None = None,
              body: dict[str, Any] | None = None, what: str) -> httpx.Response:
        headers = {"content-type": "application/json; charset=utf-8"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        try:
            return self.http.request(method, self.base + path, params=params, content=content, headers=headers)
        except httpx.TimeoutException:
            raise FeishuError(f"feishu {what}: timed out", code=-1, retryable=True) from None
        except httpx.HTTPError as err:
            raise FeishuError(f"feishu {what}: {type(err).__name__}", code=-1, retryable=True) from None

    def _fetch_token(self) -> tuple[str, int]:
        resp = self._send("POST", "/open-apis/auth/v3/tenant_access_token/internal",
                          body={"app_id": self.app.app_key, "app_secret": self.app.app_secret}, what="token")
        try:
            outcome(resp, "token")  # rate limits, 5xx and error codes; the token itself is top level
        except TokenRejected:
            raise FeishuError("feishu token: refused", code=-1, retryable=False) from None
        body = resp.json()
        token = str(body.get("tenant_access_token") or "")
        if not token:
            raise FeishuError("feishu token: no tenant_access_token in the answer", code=-1, retryable=False)
        return token, int(body.get("expire") or 7200)

    def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
              body: dict[str, Any] | None = None, what: str) -> dict[str, Any]:
        def attempt(token: str) -> dict[str, Any]:
            return outcome(self._send(method, path, token=token, params=params, body=body, what=what), what)

        try:
            return with_app_token_sync(self.tokens, attempt)
        except TokenRejected:  # refused twice in a row: the app itself is misconfigured right now
            raise FeishuError(f"feishu {what}: tenant token rejected after a refresh", code=-1,
                              retryable=True) from None

    # ---- ImClient ----
    def send_card(self, user: str, card: Card, *, idempotency_key: str) -> Sent:
        data = self._call("POST", "/open-apis/im/v1/messages", params={"receive_id_type": "user_id"}, body={
            "receive_id": user, "msg_type": "interactive",
            "content": json.dumps(card_json(card), ensure_ascii=False), "uuid": idempotency_key[:UUID_MAX],
        }, what="im/v1/messages")
        message_id = str(data.get("message_id") or "")
        if not message_id:
            raise FeishuError("feishu im/v1/messages: no message_id in the answer", code=-1, retryable=False)
        log.info("feishu.card_sent", app=self.app.key, task_id=card.task_id or None)
        return Sent(message_id)

    def update_card(self, user: str, sent: Sent, card: Card, state: CardState) -> None:
        try:
            self._call("PATCH", f"/open-apis/im/v1/messages/{sent.message_ref}",
                       body={"content": json.dumps(card_json(card, state), ensure_ascii=False)},
                       what="im/v1/messages patch")
        except FeishuError as err:
            if err.code not in CARD_GONE:
                raise
            # Recalled or older than 14 days: the card stays as it was; its button opens the task
            # page, which shows the decision, and the to-do is completed separately.
            log.info("feishu.card_not_updatable", app=self.app.key, code=err.code)

    def create_todo(self, user: str, todo: Todo, *, idempotency_key: str) -> str:
        task: dict[str, Any] = {
            "summary": todo.title[:SUMMARY_MAX],
            "description": todo.description,
            "origin": {"platform_i18n_name": ORIGIN_NAME, "href": {"url": todo.url, "title": todo.title[:SUMMARY_MAX]}},
            "members": [{"id": user, "type": "user", "role": "assignee"}],
            "client_token": idempotency_key,
            "extra": todo.task_id,
        }
        if todo.due_ms:
            task["due"] = {"timestamp": str(todo.due_ms), "is_all_day": False}
        data = self._call("POST", "/open-apis/task/v2/tasks", params={"user_id_type": "user_id"}, body=task,
                          what="task/v2/tasks")
        guid = str((data.get("task") or {}).get("guid") or "")
        if not guid:
            raise FeishuError("feishu task/v2/tasks: no task guid in the answer", code=-1, retryable=False)
        return guid

    def finish_todo(self, user: str, todo_ref: str, *, removed: bool) -> None:
        if not todo_ref:
            return
        try:
            if removed:
                self._call("DELETE", f"/open-apis/task/v2/tasks/{todo_ref}", what="task/v2/tasks delete")
            else:
                self._call("PATCH", f"/open-apis/task/v2/tasks/{todo_ref}", params={"user_id_type": "user_id"},
                           body={"task": {"completed_at": str(int(time.time() * 1000))},
                                 "update_fields": ["completed_at"]}, what="task/v2/tasks patch")
        except FeishuError as err:
            if err.code != TASK_GONE:
                raise
            log.info("feishu.todo_gone", app=self.app.key)  # deleted in Feishu already: nothing to finish

    def close(self) -> None:
        self.http.close()


def client(app: ImApp, redis_client: redis.Redis, timeout: float) -> ImClient:
    return FeishuApp(app, redis_client, timeout)
