"""WeCom (企业微信) group robot, https://developer.work.weixin.qq.com/document/path/91770

The webhook URL is ``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>``; whoever has the
key can post to the group, so it is a secret: this module only ever logs or raises
``mask_url(url)`` (``key=693a****``), and httpx's request log is masked too (see base).

Messages: with an action URL a ``template_card`` of card_type ``text_notice`` (source, main_title,
sub_title_text = the text as plain text, ``card_action`` {type 1, url}, and ``jump_list`` with the
buttons, at most 3, or the action URL); otherwise ``markdown`` (content at most 4096 bytes).
Mentions: WeCom mentions by mobile (``mentioned_mobile_list``) exist only on msgtype ``text``,
which has neither formatting nor links, and markdown can only mention ``<@userid>`` (WeCom user
ids, which we do not hold). We keep one formatted message per notification (one slot of the
robot's 20/min budget) and do not @-mention; the recipient's name is in the template's text.

Outcomes: HTTP 200 with ``{"errcode": 0}``. HTTP 408/429/5xx, timeouts, errcode 45009 (frequency
limit) and -1 (system busy) are retryable; 93000 (invalid key / URL) and every other errcode
(40008 bad msgtype, 40058 bad parameter, …) are permanent."""

from __future__ import annotations

import re

import httpx

from services.notify.channels.base import (
    RobotMessage,
    check_robot_answer,
    check_target,
    json_body,
    make_client,
    post,
)
from services.notify.channels.base import mask_url as _mask_url

ERR_FREQ_LIMIT = 45009
ERR_INVALID_KEY = 93000
ERR_BUSY = -1
RETRYABLE_ERRCODES = frozenset({ERR_FREQ_LIMIT, ERR_BUSY})
RATE_LIMIT_RETRY_AFTER = 60.0
MARKDOWN_MAX_BYTES = 4096
JUMP_LIST_MAX = 3


def mask_url(url: str) -> str:
    """``…/webhook/send?key=<first 4>****`` — the raw key never appears in logs or errors."""
    return _mask_url(url)


_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_MARKS = re.compile(r"(^|\n)\s*(#{1,6}\s+|>\s*|[-*]\s+)|\*\*|__|`")
_FONT = re.compile(r"</?font[^>]*>")
# group_cards.escape_markdown's backslash escapes: literal characters again in plain text.
_ESCAPED = re.compile(r"\\([\\`*_\[\]()<>#!|~{}+=.-])")


def plain_text(markdown: str) -> str:
    """Markdown reduced to the plain text a template card shows (escaped user text unescaped:
    plain text has no markup to fear, and ``://`` stays broken)."""
    text = _LINK.sub(r"\1", markdown)
    text = _FONT.sub("", text)
    text = _MARKS.sub(lambda m: m.group(1), text)
    text = _ESCAPED.sub(r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _cut_bytes(text: str, limit: int) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode(errors="ignore") + "…"


def payload_of(msg: RobotMessage) -> dict[str, object]:
    """The JSON WeCom receives for ``msg``."""
    if msg.action_url:
        jumps = [{"type": 1, "title": label, "url": url} for label, url in msg.buttons[:JUMP_LIST_MAX]]
        if not jumps:
            jumps = [{"type": 1, "title": "查看详情", "url": msg.action_url}]
        return {
            "msgtype": "template_card",
            "template_card": {
                "card_type": "text_notice",
                "source": {"desc": "报备 Baobei"},
                "main_title": {"title": msg.title},
                "sub_title_text": plain_text(msg.markdown),
                "jump_list": jumps,
                "card_action": {"type": 1, "url": msg.action_url},
            },
        }
    content = msg.markdown if msg.markdown.lstrip().startswith("#") else f"**{msg.title}**\n{msg.markdown}"
    return {"msgtype": "markdown", "markdown": {"content": _cut_bytes(content, MARKDOWN_MAX_BYTES)}}


class WeComRobot:
    def __init__(self, url: str, *, timeout: float = 10.0, allow_internal: bool = False) -> None:
        self._url = url
        self._timeout = timeout
        self._allow_internal = allow_internal

    def __repr__(self) -> str:
        return f"WeComRobot({mask_url(self._url)!r})"

    def send(self, msg: RobotMessage) -> None:
        check_target(self._url, allow_internal=self._allow_internal)
        with make_client(self._timeout) as client:
            resp = post(client, self._url, json_body(payload_of(msg)), what="wecom robot")
        check_answer(resp, mask_url(self._url))


def check_answer(resp: httpx.Response, masked: str) -> None:
    # WeCom echoes request details ("hint: [...]") in errmsg; keep only its first clause.
    check_robot_answer(resp, f"wecom robot {masked}", rate_limit_code=ERR_FREQ_LIMIT,
                       retryable_codes=RETRYABLE_ERRCODES, rate_retry_after=RATE_LIMIT_RETRY_AFTER,
                       clean=lambda m: m.split(",", 1)[0][:120])
