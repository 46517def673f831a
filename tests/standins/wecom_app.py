"""WeCom self-built app stand-in: the qyapi endpoints of 应用消息 on top of the login stand-in
(the same corp, agents, people, app tokens and clock, so sign-in and notices share a token).

Checked as WeCom checks them:
* ``GET /cgi-bin/gettoken`` (from the login stand-in): 40013 corpid, 40001 secret; the live token
  again while it lives. Every other call: ``access_token`` missing 41001, unknown 40014, expired
  42001 (``expire_tokens`` expires every token on demand).
* ``POST /cgi-bin/message/send``: JSON body; ``agentid`` present (41011), an agent of the corp
  (40056) and the token's own (301002); ``msgtype`` known (40008); ``touser`` present (40058),
  '|'-separated: users unknown or outside the app's visible range (``Person.can_use_app``) are
  listed in ``invaliduser`` and not reached, ``unlicensed`` users (no 接口许可) in
  ``unlicenseduser`` (errcode 0, not reached); every recipient in ``invaliduser`` → 81013.
  ``template_card``: card_type known; button_interaction needs ``main_title.title`` (or desc),
  ``task_id`` ([A-Za-z0-9_-@], ≤ 128 bytes, unused in the app), 1–6 buttons each with ``text``,
  ``key`` for type 0 and ``url`` for type 1; ``card_action`` type 1 needs ``url`` (all 40058).
  ``textcard`` needs title, description (41033) and url. ``enable_duplicate_check``: the same
  message to the same users within ``duplicate_check_interval`` (≤ 4 h, else 40058) is not
  delivered again — WeCom documents the check, not its answer; the stand-in answers as it did for
  the first (checked before task_id reuse, which is refused with 40058 — the real code is not
  documented either). Answer: msgid, and for interactive cards a ``response_code``.
* ``POST /cgi-bin/message/update_template_card``: the agent's own message; ``response_code``
  unknown, used, or older than 72 h → 60140; ``button.replace_name`` only on interactive cards
  (40058); ``userids`` recipients of that message.
* ``POST /cgi-bin/message/recall``: the agent's own msgid, at most 24 h old (else 40058).
* ``limit(n, window)``: more than ``n`` message calls of an app within ``window`` seconds → 45009
  (nothing delivered). ``fail_next(..., mode="errcode", errcode=…)`` injects any platform error.

Tests read ``messages`` (every accepted message with its updates and recall) and ``calls``."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from tests.standins._http import Refuse, Reply, Request
from tests.standins.wecom_login import WeComLoginStandIn

RESPONSE_CODE_SECONDS = 72 * 3600
RECALL_SECONDS = 24 * 3600
DUPLICATE_MAX_SECONDS = 4 * 3600
CODE_SPENT = 60140
MSGTYPES = ("text", "image", "voice", "video", "file", "textcard", "news", "mpnews", "markdown",
            "miniprogram_notice", "template_card")
CARD_TYPES = ("text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction")
INTERACTIVE = ("button_interaction", "vote_interaction", "multiple_interaction")
_TASK_ID = re.compile(r"[A-Za-z0-9_\-@]{1,128}")


def _err(errcode: int, errmsg: str) -> Refuse:
    return Refuse(f"errcode:{errcode}", Reply(200, {"errcode": errcode, "errmsg": errmsg}))


@dataclass
class AppMessage:
    """One message WeCom accepted and delivered to ``users``."""

    agent: str
    msgid: str
    msgtype: str
    users: list[str]
    payload: dict[str, Any]
    sent_at: float
    response_code: str = ""
    code_used: bool = False
    # replace_name strings / replacement cards, in order.
    updates: list[dict[str, Any]] = field(default_factory=list)
    recalled: bool = False

    @property
    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = self.payload.get("template_card") or {}
        return card


class WeComAppStandIn(WeComLoginStandIn):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.messages: list[AppMessage] = []
        self.unlicensed: set[str] = set()
        self.duplicates_dropped = 0
        self._task_ids: set[tuple[str, str]] = set()
        self._message_calls: list[tuple[str, float]] = []
        self._limit: tuple[int, float] | None = None
        self.routes.update({
            ("POST", "/cgi-bin/message/send"): self.message_send,
            ("POST", "/cgi-bin/message/update_template_card"): self.update_template_card,
            ("POST", "/cgi-bin/message/recall"): self.recall,
        })

    # ---- test controls ----
    def limit(self, calls: int, window: float = 60.0) -> None:
        """At most ``calls`` message calls per app within ``window`` seconds, then 45009."""
        self._limit = (calls, window)

    def to(self, userid: str) -> list[AppMessage]:
        with self._lock:
            return [m for m in self.messages if userid in m.users]

    def by_msgid(self, msgid: str) -> AppMessage:
        with self._lock:
            return next(m for m in self.messages if m.msgid == msgid)

    # ---- checks ----
    def _body(self, r: Request) -> dict[str, Any]:
        return self.json_body(r, _err(40058, "invalid json request"))

    def _own_agent(self, r: Request, body: dict[str, Any]) -> str:
        agent = self._agent(r)
        raw = body.get("agentid")
        if raw is None or raw == "":
            raise _err(41011, "missing agentid")
        if str(raw) not in self.agents:
            raise _err(40056, "invalid agentid")
        if str(raw) != agent:
            raise _err(301002, "not allow operate another agent with this accesstoken")
        return agent

    def _rate(self, agent: str) -> None:
        if self._limit is None:
            return
        calls, window = self._limit
        now = self.now()
        recent = [(a, t) for a, t in self._message_calls if now - t < window]
        self._message_calls = recent
        if sum(1 for a, _ in recent if a == agent) >= calls:
            self.rate_limited += 1
            raise _err(45009, "api freq out of limit")
        self._message_calls.append((agent, now))

    def _reachable(self, userid: str) -> bool:
        person = next((p for p in self.people.values() if p.userid == userid), None)
        return person is not None and person.can_use_app

    @staticmethod
    def _check_url(value: Any) -> None:
        if not isinstance(value, str) or not value.startswith(("http://", "https://")) or len(value.encode()) > 2048:
            raise _err(40058, "invalid url")

    def _check_card(self, agent: str, card: Any) -> None:
        if not isinstance(card, dict) or card.get("card_type") not in CARD_TYPES:
            raise _err(40058, "invalid card_type")
        title = card.get("main_title") or {}
        if not isinstance(title, dict) or not (title.get("title") or title.get("desc")):
            raise _err(40058, "main_title.title or main_title.desc required")
        action = card.get("card_action")
        if card["card_type"] == "text_notice" and not isinstance(action, dict):
            raise _err(40058, "card_action required")
        if isinstance(action, dict) and action.get("type") == 1:
            self._check_url(action.get("url"))
        if card["card_type"] in INTERACTIVE:
            task_id = card.get("task_id")
            if not isinstance(task_id, str) or not _TASK_ID.fullmatch(task_id):
                raise _err(40058, "invalid task_id")
        if card["card_type"] == "button_interaction":
            buttons = card.get("button_list")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
                raise _err(40058, "button_list size must be 1~6")
            keys: set[str] = set()
            for button in buttons:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _err(40058, "button text required")
                kind = button.get("type", 0)
                if kind == 1:
                    self._check_url(button.get("url"))
                elif kind == 0 and not button.get("key"):
                    raise _err(40058, "button key required")
                elif kind not in (0, 1):
                    raise _err(40058, "invalid button type")
                key = str(button.get("key") or "")
                if key and key in keys:
                    raise _err(40058, "button key duplicated")
                keys.add(key)

    # ---- endpoints ----
    def message_send(self, r: Request) -> Reply:
        body = self._body(r)
        agent = self._own_agent(r, body)
        msgtype = body.get("msgtype")
        if msgtype not in MSGTYPES or not isinstance(body.get(msgtype), dict):
            raise _err(40008, "invalid message type")
        touser = str(body.get("touser") or "")
        if not touser:
            raise _err(40058, "touser, toparty and totag are all empty")
        content: dict[str, Any] = body[msgtype]
        if msgtype == "template_card":
            self._check_card(agent, content)
        elif msgtype == "textcard":
            if not content.get("title"):
                raise _err(40058, "missing title")
            if not content.get("description"):
                raise _err(41033, "missing description")
            self._check_url(content.get("url"))
        interval = int(body.get("duplicate_check_interval") or 1800)
        if body.get("enable_duplicate_check") and not 0 < interval <= DUPLICATE_MAX_SECONDS:
            raise _err(40058, "invalid duplicate_check_interval")
        self._rate(agent)
        users = [u for u in touser.split("|") if u]
        invalid = [u for u in users if not self._reachable(u)]
        unlicensed = [u for u in users if u not in invalid and u in self.unlicensed]
        reached = [u for u in users if u not in invalid and u not in unlicensed]
        out: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(invalid)}
        if unlicensed:
            out["unlicenseduser"] = "|".join(unlicensed)
        if not reached and not unlicensed:
            out.update(errcode=81013, errmsg="user & party & tag all invalid")
            return Reply(200, out)
        if not reached:
            # Only unlicensed recipients: accepted, delivered to nobody (answer lists them).
            out["msgid"] = secrets.token_urlsafe(24)
            return Reply(200, out)
        if body.get("enable_duplicate_check"):
            first = next((m for m in self.messages if m.agent == agent and m.msgtype == msgtype
                          and m.users == reached and m.payload.get(msgtype) == content
                          and self.now() - m.sent_at < interval), None)
            if first is not None:
                self.duplicates_dropped += 1
                out.update(msgid=first.msgid, response_code=first.response_code if not first.code_used else "")
                return Reply(200, out)
        task_id = str(content.get("task_id") or "") if msgtype == "template_card" else ""
        if task_id and (agent, task_id) in self._task_ids:
            raise _err(40058, "task_id already exist")
        message = AppMessage(agent=agent, msgid=secrets.token_urlsafe(24), msgtype=msgtype, users=reached,
                             payload=body, sent_at=self.now())
        if msgtype == "template_card" and content.get("card_type") in INTERACTIVE:
            self._task_ids.add((agent, task_id))
            message.response_code = secrets.token_urlsafe(32)
        self.messages.append(message)
        out["msgid"] = message.msgid
        if message.response_code:
            out["response_code"] = message.response_code
        return Reply(200, out)

    def update_template_card(self, r: Request) -> Reply:
        body = self._body(r)
        agent = self._own_agent(r, body)
        self._rate(agent)
        code = str(body.get("response_code") or "")
        message = next((m for m in self.messages if m.response_code and m.response_code == code), None)
        if (message is None or message.agent != agent or message.code_used
                or self.now() - message.sent_at > RESPONSE_CODE_SECONDS):
            raise _err(CODE_SPENT, "invalid response_code")
        userids = body.get("userids")
        if body.get("atall") != 1 and not (isinstance(userids, list) and userids):
            raise _err(40058, "userids, partyids, tagids and atall are all empty")
        invalid = [u for u in (userids or []) if u not in message.users]
        button, card = body.get("button"), body.get("template_card")
        if isinstance(button, dict):
            if message.card.get("card_type") not in INTERACTIVE or not button.get("replace_name"):
                raise _err(40058, "invalid button.replace_name")
            update: dict[str, Any] = {"replace_name": button["replace_name"]}
        elif isinstance(card, dict):
            title = card.get("main_title")
            if card.get("card_type") not in CARD_TYPES or not (isinstance(title, dict) and title.get("title")):
                raise _err(40058, "invalid template_card")
            update = {"template_card": card}
        else:
            raise _err(40058, "button or template_card required")
        message.code_used = True
        message.updates.append(update)
        return Reply(200, {"errcode": 0, "errmsg": "ok", "invaliduser": invalid})

    def recall(self, r: Request) -> Reply:
        body = self._body(r)
        agent = self._agent(r)
        self._rate(agent)
        msgid = str(body.get("msgid") or "")
        message = next((m for m in self.messages if m.msgid == msgid and m.agent == agent), None)
        if message is None or message.recalled or self.now() - message.sent_at > RECALL_SECONDS:
            raise _err(40058, "invalid msgid")
        message.recalled = True
        return Reply(200, {"errcode": 0, "errmsg": "ok"})
