"""WeCom (企业微信) self-built app (自建应用): personal 应用消息 as template cards, updated in place.

Endpoints (``api_base`` replaces https://qyapi.weixin.qq.com; every call but gettoken carries
``?access_token``):

* Token — ``GET /cgi-bin/gettoken?corpid&corpsecret`` (document/path/91039; 7200 s). Cached in
  Redis under ``cache_key("wecom", api_base, corpid, secret)``, exactly the key of the edge's WeCom
  sign-in (edge/sso/im.py ``load_app``), so sign-ins and notices of one app share one token.
* Send — ``POST /cgi-bin/message/send`` (document/path/90236, 发送应用消息): ``msgtype:
  template_card`` of ``card_type: button_interaction`` to one ``touser``: ``main_title``,
  ``sub_title_text`` (the notice as plain text), ``card_action`` {type 1, url} (a tap on the card
  opens the task through the in-app sign-in page), ``button_list`` (≤ 6, each ``type: 1`` + ``url``:
  the buttons open the web app, which asks the signed-in person to confirm — WeCom vouches for
  the user, Baobei decides), and ``task_id`` (unique per app; ``[A-Za-z0-9_-@]``, ≤ 128 bytes),
  derived from the delivery id. ``enable_duplicate_check: 1`` with ``duplicate_check_interval``
  1800 s (default; at most 4 h) makes WeCom drop a second identical message of a redriven delivery.
  The answer: ``errcode``, ``msgid``, ``response_code`` (interactive cards only), ``invaliduser`` /
  ``unlicenseduser`` (recipients not reached, with errcode 0 when others were).
  ``Sent.message_ref`` is JSON ``{"rc", "msgid", "at"}`` (response_code, msgid, send time).
* Update — ``POST /cgi-bin/message/update_template_card`` (document/path/94888, 更新模版卡片消息):
  ``userids``, ``agentid``, ``response_code``, ``button: {replace_name}`` greys the buttons out
  with the outcome (``已同意 · 李四``). WeCom accepts a response_code **once** and for **72 hours**.
  So: the one update is kept for the card's close (a ``CardState(closed=False)`` does not spend it);
  a second close of the same card (a redrive whose first answer was lost) is answered "code
  spent" (errcode 60140, not in the global table, seen in practice) and taken as done; once 72 h
  (less a 10-minute margin) have passed the card cannot be updated, and the person gets a short
  ``textcard`` follow-up instead (``已处理：<title>`` / ``已同意 · 李四`` / the task link), after
  ``POST /cgi-bin/message/recall`` {msgid} (document/path/94867, 撤回应用消息) of the stale card
  when it is younger than 24 h (the recall window; only when the card carried no response_code).
* To-do — WeCom offers a self-built app **no server-side to-do API**: 待办 can only be created by
  the person in the client (JS-SDK ``ww.createTodo`` opens WeCom's own creation panel, document/
  path/101530; WeCom's community answer "目前暂不支持待办相关的api接口"). 日程 (``oa/schedule/add``,
  document/path/93648) is a calendar event, not a to-do, and 审批 (``oa/applyevent``, document/path/
  91853) would start a second approval in WeCom's 审批 app whose decisions Baobei does not own. So
  ``create_todo`` answers "" and ``finish_todo`` does nothing; the card is the person's to-do.

Outcomes (global error codes, document/path/90313): HTTP 200 with ``errcode`` 0 is success.
40014 (invalid token) / 42001 (expired) / 41001 (missing) → ``TokenRejected``: dropped, fetched
once more. 45009 (接口调用超过限制), 45011 (API 调用太频繁) → retryable after 60 s; 45033 (接口并发调用
超过限制) → after 2 s. -1 (系统繁忙), HTTP 408/425/429/5xx, timeouts, transport errors, a non-JSON
answer → retryable. Everything else is permanent, among them 40013 / 40001 (corpid / secret),
40056 (invalid agentid), 301002 (no permission on the app), 60111 (unknown UserID), 81013 (every
recipient invalid or outside the app's visible range), 60020 (server IP not in the app's 可信IP),
48002 (API not granted), 40058 (bad parameter) — and ``invaliduser`` / ``unlicenseduser`` naming
the recipient in an errcode-0 answer (the person was not reached)."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import redis
import structlog

from baobei.core.app_tokens import SyncAppTokens, TokenRejected, cache_key, with_app_token_sync
from services.notify.channels.base import (
    RETRYABLE_STATUS,
    USER_AGENT,
    DeliveryFailed,
    json_body,
    make_client,
    retry_after_of,
)
from services.notify.channels.wecom import plain_text
from services.notify.im.base import Card, CardState, ImApp, ImClient, Sent, Todo

log = structlog.get_logger(__name__)

API = "https://qyapi.weixin.qq.com"
# The edge's provider type: the token cache key must be the sign-in's.
PLATFORM = "wecom"
TOKEN_INVALID = frozenset({40014, 41001, 42001})
# errcode → seconds to wait before the next attempt.
RATE_LIMITED = {45009: 60.0, 45011: 60.0, 45033: 2.0}
BUSY = -1
# update_template_card: the response_code was used already or is older than 72 h.
CODE_SPENT = 60140
RESPONSE_CODE_SECONDS = 72 * 3600
RECALL_SECONDS = 24 * 3600
# Do not rely on a code or msgid this close to WeCom's own limit (clock skew, slow queues).
MARGIN_SECONDS = 600
DUPLICATE_CHECK_SECONDS = 1800
BUTTONS_MAX = 6
TITLE_MAX = 36
SUBTITLE_MAX = 112
BUTTON_TEXT_MAX = 10
REPLACE_NAME_MAX = 20
TASK_ID_MAX = 128
_TASK_ID_OK = re.compile(r"[A-Za-z0-9_\-@]+")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def task_id_for(idempotency_key: str) -> str:
    """WeCom's task_id of the card of one delivery: the same on every attempt (WeCom refuses a
    second card with it), only ``[A-Za-z0-9_-@]``, at most 128 bytes."""
    if _TASK_ID_OK.fullmatch(idempotency_key) and len(idempotency_key) <= TASK_ID_MAX - 3:
        return "bb-" + idempotency_key
    return "bb-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:48]


@dataclass(frozen=True)
class Ref:
    """What ``Sent.message_ref`` holds for WeCom."""

    response_code: str
    msgid: str = ""
    # Epoch seconds of the send (our clock); None for a bare response_code.
    at: float | None = None

    def encode(self) -> str:
        return json.dumps({"rc": self.response_code, "msgid": self.msgid, "at": self.at}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> Ref:
        if not value.startswith("{"):
            return cls(response_code=value)
        try:
            data = json.loads(value)
            at = data.get("at")
            return cls(str(data.get("rc") or ""), str(data.get("msgid") or ""), float(at) if at is not None else None)
        except (ValueError, TypeError, AttributeError):
            return cls(response_code="")


def card_payload(card: Card, task_id: str) -> dict[str, Any]:
    """The ``template_card`` of a personal notice (button_interaction; every button opens a URL)."""
    buttons = [
        {"type": 1, "text": _cut(b.label, BUTTON_TEXT_MAX), "style": 1 if i == 0 else 2, "key": f"b{i}", "url": b.url}
        for i, b in enumerate(card.buttons[:BUTTONS_MAX])
    ]
    if not buttons:
        buttons = [{"type": 1, "text": "查看详情", "style": 1, "key": "b0", "url": card.url}]
    payload: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "报备 Baobei"},
        "main_title": {"title": _cut(card.title, TITLE_MAX)},
        "task_id": task_id,
        "button_list": buttons,
    }
    text = plain_text(card.markdown)
    if text:
        payload["sub_title_text"] = _cut(text, SUBTITLE_MAX)
    if card.url:
        payload["card_action"] = {"type": 1, "url": card.url}
    return payload


def followup_payload(card: Card, state: CardState) -> dict[str, Any]:
    """The ``textcard`` sent when the card itself can no longer be updated."""
    return {
        "title": _cut(f"已处理：{card.title}", 128),
        "description": _cut(state.status, 512),
        "url": card.url or "https://work.weixin.qq.com/",
        "btntxt": "详情",
    }


def _errcode(body: dict[str, Any]) -> int:
    try:
        return int(body.get("errcode", -1))
    except (TypeError, ValueError):
        return -1


def _not_reached(body: dict[str, Any]) -> str:
    """Recipients an errcode-0 answer says were not reached ('|'-joined text or a list)."""
    names: list[str] = []
    for field in ("invaliduser", "unlicenseduser"):
        value = body.get(field)
        if isinstance(value, str):
            names += [v for v in value.split("|") if v]
        elif isinstance(value, list):
            names += [str(v) for v in value if v]
    return "|".join(names)


def check(body: dict[str, Any], what: str) -> None:
    """Raise ``DeliveryFailed`` for a non-zero errcode as WeCom's error codes say."""
    code = _errcode(body)
    if code == 0:
        return
    # errmsg echoes a hint and the caller's IP after the first comma: keep the reason only.
    text = f"企业微信 {what}: errcode {code} {str(body.get('errmsg', '')).split(',', 1)[0][:80]}".strip()
    if code in RATE_LIMITED:
        raise DeliveryFailed(text, retryable=True, retry_after=RATE_LIMITED[code])
    raise DeliveryFailed(text, retryable=code == BUSY)


class WeComApp:
    """One self-built app (``ImApp``: app_key = corpid, app_secret = the app's Secret, agent_id =
    AgentId). ``clock`` is epoch seconds (tests pass the stand-in's clock)."""

    def __init__(self, app: ImApp, redis_client: redis.Redis, timeout: float = 10.0, *,
                 clock: Callable[[], float] = time.time) -> None:
        if not app.app_key or not app.app_secret or not app.agent_id.isdigit():
            raise DeliveryFailed(f"企业微信应用 {app.key} 未配置完整（corpid / Secret / AgentId）", retryable=False)
        self.app, self.clock = app, clock
        self.api = (app.api_base or API).rstrip("/")
        self.agent_id = int(app.agent_id)
        self.http = make_client(timeout)
        self.tokens = SyncAppTokens(redis_client, cache_key(PLATFORM, app.api_base, app.app_key, app.app_secret),
                                    self._fetch_token)

    def __repr__(self) -> str:
        return f"WeComApp({self.app.key!r}, agent={self.agent_id})"

    # ---- HTTP ----
    def _request(self, method: str, path: str, *, params: dict[str, str], body: dict[str, Any] | None,
                 what: str) -> dict[str, Any]:
        headers = {"user-agent": USER_AGENT}
        content = None
        if body is not None:
            headers["content-type"] = "application/json; charset=utf-8"
            content = json_body(body)
        try:
            resp = self.http.request(method, self.api + path, params=params, content=content, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"企业微信 {what}: timed out", retryable=True) from None
        except httpx.HTTPError as err:
            raise DeliveryFailed(f"企业微信 {what}: {type(err).__name__}", retryable=True) from None
        status = resp.status_code
        if status != 200:
            retryable = status >= 500 or status in RETRYABLE_STATUS
            raise DeliveryFailed(f"企业微信 {what}: HTTP {status}", retryable=retryable,
                                 retry_after=retry_after_of(resp.headers.get("retry-after")) if retryable else None)
        try:
            answer = resp.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise DeliveryFailed(f"企业微信 {what}: answer is not JSON", retryable=True)
        return answer

    def _fetch_token(self) -> tuple[str, int]:
        body = self._request("GET", "/cgi-bin/gettoken", params={"corpid": self.app.app_key,
                                                                  "corpsecret": self.app.app_secret},
                             body=None, what="gettoken")
        check(body, "gettoken")
        token = str(body.get("access_token") or "")
        if not token:
            raise DeliveryFailed("企业微信 gettoken: no access_token in the answer", retryable=True)
        return token, int(body.get("expires_in") or 7200)

    def _call(self, path: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        """POST ``body`` with the app token; a rejected token is refreshed once."""

        def attempt(token: str) -> dict[str, Any]:
            answer = self._request("POST", path, params={"access_token": token}, body=body, what=what)
            if _errcode(answer) in TOKEN_INVALID:
                raise TokenRejected()
            return answer

        try:
            return with_app_token_sync(self.tokens, attempt)
        except TokenRejected:
            raise DeliveryFailed(f"企业微信 {what}: access_token rejected twice", retryable=True) from None

    def _send(self, user: str, msgtype: str, content: dict[str, Any], what: str) -> dict[str, Any]:
        answer = self._call("/cgi-bin/message/send", {
            "touser": user, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content,
            "enable_id_trans": 0, "enable_duplicate_check": 1, "duplicate_check_interval": DUPLICATE_CHECK_SECONDS,
        }, what)
        check(answer, what)
        missed = _not_reached(answer)
        if missed:
            # The person is outside the app's visible range, unknown or without a licence.
            raise DeliveryFailed(f"企业微信 {what}: recipient not reached (invaliduser/unlicenseduser {missed})",
                                 retryable=False)
        return answer

    # ---- ImClient ----
    def send_card(self, user: str, card: Card, *, idempotency_key: str) -> Sent:
        at = self.clock()
        answer = self._send(user, "template_card", card_payload(card, task_id_for(idempotency_key)), "message/send")
        ref = Ref(str(answer.get("response_code") or ""), str(answer.get("msgid") or ""), at)
        log.info("notify.wecom_app.sent", app=self.app.key, msgid=ref.msgid, updatable=bool(ref.response_code))
        return Sent(message_ref=ref.encode())

    def update_card(self, user: str, sent: Sent, card: Card, state: CardState) -> None:
        if not state.closed:
            # WeCom allows one update per card: keep it for the close.
            log.info("notify.wecom_app.update_skipped", app=self.app.key, reason="not_closed")
            return
        ref = Ref.decode(sent.message_ref)
        age = None if ref.at is None else self.clock() - ref.at
        if ref.response_code and (age is None or age < RESPONSE_CODE_SECONDS - MARGIN_SECONDS):
            answer = self._call("/cgi-bin/message/update_template_card", {
                "userids": [user], "agentid": self.agent_id, "response_code": ref.response_code,
                "button": {"replace_name": _cut(state.status, REPLACE_NAME_MAX)},
            }, "update_template_card")
            if _errcode(answer) == CODE_SPENT:
                # Within 72 h only our own earlier update can have used it (the buttons only open
                # URLs, so clicks raise no callbacks): a redrive of a close that went through.
                log.info("notify.wecom_app.update_already_done", app=self.app.key, msgid=ref.msgid)
                return
            check(answer, "update_template_card")
            log.info("notify.wecom_app.updated", app=self.app.key, msgid=ref.msgid)
            return
        self._follow_up(user, ref, age, card, state)

    def _follow_up(self, user: str, ref: Ref, age: float | None, card: Card, state: CardState) -> None:
        """The card can no longer be updated: recall it while WeCom still allows (24 h), and tell
        the person the outcome in a short text card."""
        recalled = False
        if ref.msgid and age is not None and age < RECALL_SECONDS - MARGIN_SECONDS:
            answer = self._call("/cgi-bin/message/recall", {"msgid": ref.msgid}, "message/recall")
            try:
                check(answer, "message/recall")
                recalled = True
            except DeliveryFailed as failed:
                if failed.retryable:
                    raise
                log.info("notify.wecom_app.recall_refused", app=self.app.key, msgid=ref.msgid, error=failed.message)
        self._send(user, "textcard", followup_payload(card, state), "message/send (follow-up)")
        log.info("notify.wecom_app.followed_up", app=self.app.key, msgid=ref.msgid, recalled=recalled,
                 age_hours=None if age is None else round(age / 3600, 1))

    def create_todo(self, user: str, todo: Todo, *, idempotency_key: str) -> str:
        # No server-side to-do API for self-built apps (see the module docstring).
        return ""

    def finish_todo(self, user: str, todo_ref: str, *, removed: bool) -> None:
        return None

    def close(self) -> None:
        self.http.close()


def client(app: ImApp, redis_client: redis.Redis, timeout: float) -> ImClient:
    return WeComApp(app, redis_client, timeout)
