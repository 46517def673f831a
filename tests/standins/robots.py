"""DingTalk custom robot and WeCom group robot stand-ins: they check what the platforms check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from tests.standins._http import HttpStandIn, Received, Refuse, Reply, Request

HOUR_MS = 3600 * 1000


def _http_url(value: object) -> bool:
    if not isinstance(value, str) or not value:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


class DingTalkStandIn(HttpStandIn):
    """``POST /robot/send?access_token=…[&timestamp=…&sign=…]`` like oapi.dingtalk.com.

    Checks: access_token (errcode 300001); with a ``secret``: timestamp (ms) within one hour of
    now and ``sign`` = base64(HMAC-SHA256(secret, "<ts>\\n<secret>")) (errcode 310000); with
    ``keywords``: one of them in the content (310000); JSON body shape per msgtype (text,
    markdown, actionCard with single button or ``btns`` of {title, actionURL http(s)}, ``at``)
    (errcode 40035); at most ``rate_limit`` accepted messages in any 60 s (errcode 130101)."""

    path = "/robot/send"
    default_errcode = -1  # 系统繁忙

    def __init__(
        self,
        secret: str = "",
        *,
        keywords: tuple[str, ...] = (),
        rate_limit: int | None = 20,
        hang_seconds: float = 2.0,
    ) -> None:
        super().__init__(hang_seconds=hang_seconds, rate_limit=rate_limit)
        self.secret = secret
        self.keywords = keywords
        self.access_token = secrets.token_hex(16)

    @property
    def url(self) -> str:
        return f"{self.base}{self.path}?access_token={self.access_token}"

    def rate_limit_reply(self) -> Reply:
        return Reply(200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})

    def _refuse(self, reason: str, errcode: int, errmsg: str) -> Refuse:
        return Refuse(reason, Reply(200, {"errcode": errcode, "errmsg": errmsg}))

    def verify(self, request: Request) -> Received:
        if request.method != "POST" or request.path != self.path:
            raise Refuse("not_found", Reply(404, {"error": "not found"}))
        if request.query.get("access_token") != self.access_token:
            raise self._refuse("bad_token", 300001, "token is not exist")
        if self.secret:
            ts_text, got = request.query.get("timestamp", ""), request.query.get("sign", "")
            try:
                ts = int(ts_text)
            except ValueError:
                raise self._refuse("bad_timestamp", 310000, "sign not match, timestamp missing") from None
            if abs(time.time() * 1000 - ts) > HOUR_MS:
                raise self._refuse("stale_timestamp", 310000, "sign not match, timestamp is more than 1 hour")
            digest = hmac.new(self.secret.encode(), f"{ts}\n{self.secret}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(base64.b64encode(digest).decode(), got):
                raise self._refuse("bad_sign", 310000, "sign not match")
        if "json" not in request.headers.get("content-type", ""):
            raise self._refuse("bad_content_type", 43004, "无效的HTTP HEADER Content-Type")
        try:
            payload = request.json()
        except (ValueError, UnicodeDecodeError):
            raise self._refuse("bad_json", 40035, "缺少参数 json") from None
        if not isinstance(payload, dict):
            raise self._refuse("bad_json", 40035, "缺少参数 json")
        text = self._check_shape(payload)
        if self.keywords and not any(k in text for k in self.keywords):
            raise self._refuse("keyword", 310000, "keywords not in content")
        return Received(payload, request.headers, request.query, request.at, text)

    def _check_shape(self, p: dict[str, Any]) -> str:
        kind = p.get("msgtype")
        bad = self._refuse(f"bad_shape:{kind}", 40035, "缺少参数")
        if kind == "text":
            content = (p.get("text") or {}).get("content")
            if not _text(content):
                raise bad
            text = str(content)
        elif kind == "markdown":
            md = p.get("markdown") or {}
            if not _text(md.get("title")) or not _text(md.get("text")):
                raise bad
            text = f"{md['title']}\n{md['text']}"
        elif kind == "actionCard":
            card = p.get("actionCard") or {}
            if not _text(card.get("title")) or not _text(card.get("text")):
                raise bad
            btns = card.get("btns")
            if btns is not None:
                if not isinstance(btns, list) or not btns:
                    raise bad
                for b in btns:
                    if not isinstance(b, dict) or not _text(b.get("title")) or not _http_url(b.get("actionURL")):
                        raise bad
                if card.get("btnOrientation", "0") not in ("0", "1"):
                    raise bad
            elif not (_text(card.get("singleTitle")) and _http_url(card.get("singleURL"))):
                raise bad
            text = f"{card['title']}\n{card['text']}"
        else:
            raise self._refuse(f"bad_msgtype:{kind}", 40035, "不支持的msgtype")
        at = p.get("at")
        if at is not None:
            mobiles = at.get("atMobiles", []) if isinstance(at, dict) else None
            if not isinstance(mobiles, list) or not all(isinstance(m, str) for m in mobiles):
                raise bad
        return text

    @staticmethod
    def buttons(msg: Received) -> list[tuple[str, str]]:
        card = msg.payload.get("actionCard") or {}
        return [(b["title"], b["actionURL"]) for b in card.get("btns") or []]

    @staticmethod
    def at_mobiles(msg: Received) -> list[str]:
        return list((msg.payload.get("at") or {}).get("atMobiles") or [])


class WeComStandIn(HttpStandIn):
    """``POST /cgi-bin/webhook/send?key=…`` like qyapi.weixin.qq.com.

    Checks: the key (errcode 93000); JSON body shape for text, markdown (content ≤ 4096 bytes) and
    template_card text_notice (main_title.title or sub_title_text, card_action type 1 with an
    http(s) url, jump_list ≤ 3 of {type 1, title, url}) (errcode 40058, 40008 for an unknown
    msgtype); at most ``rate_limit`` accepted messages in any 60 s (errcode 45009)."""

    path = "/cgi-bin/webhook/send"
    default_errcode = -1

    def __init__(self, *, rate_limit: int | None = 20, hang_seconds: float = 2.0) -> None:
        super().__init__(hang_seconds=hang_seconds, rate_limit=rate_limit)
        self.key = secrets.token_hex(4) + "-" + secrets.token_hex(12)

    @property
    def url(self) -> str:
        return f"{self.base}{self.path}?key={self.key}"

    def rate_limit_reply(self) -> Reply:
        return Reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})

    def _refuse(self, reason: str, errcode: int, errmsg: str) -> Refuse:
        return Refuse(reason, Reply(200, {"errcode": errcode, "errmsg": errmsg}))

    def verify(self, request: Request) -> Received:
        if request.method != "POST" or request.path != self.path:
            raise Refuse("not_found", Reply(404, {"error": "not found"}))
        if request.query.get("key") != self.key:
            raise self._refuse("bad_key", 93000, "invalid webhook url")
        try:
            payload = json.loads(request.body.decode())
        except (ValueError, UnicodeDecodeError):
            raise self._refuse("bad_json", 40058, "invalid json") from None
        if not isinstance(payload, dict):
            raise self._refuse("bad_json", 40058, "invalid json")
        text = self._check_shape(payload)
        return Received(payload, request.headers, request.query, request.at, text)

    def _check_shape(self, p: dict[str, Any]) -> str:
        kind = p.get("msgtype")
        bad = self._refuse(f"bad_shape:{kind}", 40058, "invalid parameter")
        if kind == "text":
            content = (p.get("text") or {}).get("content")
            if not _text(content):
                raise bad
            return str(content)
        if kind == "markdown":
            content = (p.get("markdown") or {}).get("content")
            if not _text(content) or len(str(content).encode()) > 4096:
                raise bad
            return str(content)
        if kind == "template_card":
            card = p.get("template_card") or {}
            if card.get("card_type") != "text_notice":
                raise bad
            title = (card.get("main_title") or {}).get("title", "")
            sub = card.get("sub_title_text", "")
            if not (_text(title) or _text(sub)):
                raise bad
            action = card.get("card_action") or {}
            if action.get("type") != 1 or not _http_url(action.get("url")):
                raise bad
            jumps = card.get("jump_list", [])
            if not isinstance(jumps, list) or len(jumps) > 3:
                raise bad
            for j in jumps:
                if not isinstance(j, dict) or j.get("type") != 1:
                    raise bad
                if not _text(j.get("title")) or not _http_url(j.get("url")):
                    raise bad
            return f"{title}\n{sub}"
        raise self._refuse(f"bad_msgtype:{kind}", 40008, "invalid message type")
