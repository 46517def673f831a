"""DingTalk custom robot (自定义机器人), https://open.dingtalk.com/document/robots/custom-robot-access

Signing (加签): ``string_to_sign = f"{timestamp_ms}\\n{secret}"``, HMAC-SHA256 keyed with the
secret, base64, then URL-encoded; sent as ``&timestamp=<ms>&sign=<value>`` on the webhook URL.
DingTalk refuses timestamps more than an hour from its clock.

Messages: with buttons an ``actionCard`` (title, markdown text, ``btnOrientation`` "1" =
side by side for two buttons, ``btns`` [{title, actionURL}]) — action cards cannot @-mention, so
the mobiles are written into the text only; otherwise ``markdown`` with ``at.atMobiles`` (and
"@<mobile>" in the text, which DingTalk requires for the mention to show). The action URL, when
given without buttons, is appended to the markdown as a link.

Outcomes: the robot answers HTTP 200 with ``{"errcode": 0}``. HTTP 408/429/5xx, timeouts,
``errcode`` 130101 (more than 20 messages a minute; DingTalk then throttles for a while) and -1
(system busy) are retryable; 310000 (bad signature, missing keyword, IP not allowed) and every
other errcode are permanent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse

import httpx

from services.notify.channels.base import (
    RobotMessage,
    check_robot_answer,
    check_target,
    json_body,
    make_client,
    mask_url,
    post,
)

ERR_RATE_LIMIT = 130101
ERR_SIGN = 310000
ERR_BUSY = -1
RETRYABLE_ERRCODES = frozenset({ERR_RATE_LIMIT, ERR_BUSY})
# DingTalk throttles a robot that exceeded its per-minute budget; wait at least a minute.
RATE_LIMIT_RETRY_AFTER = 60.0


def sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value: URL-encoded base64 HMAC-SHA256(secret, "<ts>\\n<secret>")."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={sign(secret, timestamp_ms)}"


def payload_of(msg: RobotMessage) -> dict[str, object]:
    """The JSON DingTalk receives for ``msg``."""
    mentions = " ".join(f"@{m}" for m in msg.at_mobiles if f"@{m}" not in msg.markdown)
    if msg.buttons:
        text = msg.markdown + (f"\n\n{mentions}" if mentions else "")
        return {
            "msgtype": "actionCard",
            "actionCard": {
                "title": msg.title,
                "text": text,
                "btnOrientation": "1" if len(msg.buttons) <= 2 else "0",
                "btns": [{"title": label, "actionURL": url} for label, url in msg.buttons],
            },
        }
    text = msg.markdown
    if msg.action_url and msg.action_url not in text:
        text += f"\n\n[查看详情]({msg.action_url})"
    if mentions:
        text += f"\n\n{mentions}"
    return {
        "msgtype": "markdown",
        "markdown": {"title": msg.title, "text": text},
        "at": {"atMobiles": list(msg.at_mobiles), "isAtAll": False},
    }


class DingTalkRobot:
    def __init__(self, url: str, secret: str = "", *, timeout: float = 10.0, allow_internal: bool = False) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._allow_internal = allow_internal

    def __repr__(self) -> str:
        return f"DingTalkRobot({mask_url(self._url)!r})"

    def send(self, msg: RobotMessage) -> None:
        check_target(self._url, allow_internal=self._allow_internal)
        url = signed_url(self._url, self._secret, int(time.time() * 1000)) if self._secret else self._url
        with make_client(self._timeout) as client:
            resp = post(client, url, json_body(payload_of(msg)), what="dingtalk robot")
        check_answer(resp, mask_url(self._url))


def check_answer(resp: httpx.Response, masked: str) -> None:
    check_robot_answer(resp, f"dingtalk robot {masked}", rate_limit_code=ERR_RATE_LIMIT,
                       retryable_codes=RETRYABLE_ERRCODES, rate_retry_after=RATE_LIMIT_RETRY_AFTER)
