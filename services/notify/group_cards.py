"""What a robot card may carry. DingTalk and WeCom robots post into group chats, so everybody in
the group reads the card (pure functions, used by deliver.py):

- **no personal link**: a personal action link decides as its approver without signing in, so it
  goes only through personal channels (in-app inbox, e-mail). An approval request's card carries
  the **group link** instead (``/a/g/<token>``, a button, never in the text): bound to the
  approval request, not to a person, it asks whoever opens it to sign in and lets only an approver
  of that step decide, as themselves. Digests list titles without links.
- **no amount** unless the admin allowed it on that robot (``show_amount``): the ``amount`` key
  goes and body lines that state it are dropped. Form fields are never in a card's context.
- **user text is escaped**: project name, customer, comments … are written by users; markdown
  and HTML characters are backslash-escaped, line breaks in one-line values collapse, and ``://``
  is broken so a name can neither add links or markup nor look like a bare link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Context keys holding links the system made (never user text).
LINK_KEYS = frozenset({"action_url"})
# Context keys whose text may span lines.
MULTILINE_KEYS = frozenset({"body", "comment"})
APPROVE_HINT = "请在报备系统待办或个人通知（站内信、邮件）中处理，群消息不含审批链接。"
GROUP_LINK_HINT = "审批人请点击下方按钮，登录确认身份后处理；仅本环节审批人可操作。"
GROUP_BUTTON = "登录后审批"

_MARKUP = re.compile(r"([\\`*_\[\]()<>#!|~{}])")
_LINE_LEAD = re.compile(r"(?m)^(\s*)([-+=])")
_NUMBERED = re.compile(r"(?m)^(\s*\d+)\.")
_AMOUNT_LINE = re.compile(r"^\s*(金额|预算|合同额|amount)\s*[:：]", re.IGNORECASE)


def escape_markdown(value: str, *, multiline: bool = False) -> str:
    """``value`` as literal text inside robot markdown (DingTalk / WeCom)."""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        text = " ".join(part for part in text.split("\n"))
    text = _MARKUP.sub(r"\\\1", text)
    if multiline:
        # No list item, heading underline or numbered list at a line start.
        text = _NUMBERED.sub(r"\1\\.", _LINE_LEAD.sub(r"\1\\\2", text))
    # "https://x" would still be auto-linked by the clients: a zero-width space breaks the scheme.
    return text.replace("://", ":\u200b//").replace("www.", "www\u200b.")


def _without_amount(body: str, amount: str) -> str:
    lines = [
        line
        for line in body.split("\n")
        if not _AMOUNT_LINE.match(line) and not (len(amount) >= 4 and amount in line)
    ]
    return "\n".join(lines)


def group_context(ctx: Mapping[str, Any], *, show_amount: bool, group_link: bool = False) -> dict[str, Any]:
    """The template context of a group card: no personal link, no amount unless allowed. With
    ``group_link`` (the card gets the group link's button) the hint says how to use it."""
    out = dict(ctx)
    had_link = bool(out.get("action_url"))
    for key in LINK_KEYS:
        out[key] = ""
    if not show_amount:
        amount = str(out.pop("amount", "") or "")
        if isinstance(out.get("body"), str):
            out["body"] = _without_amount(out["body"], amount)
    if had_link and out.get("kind") == "approval_request":
        hint = GROUP_LINK_HINT if group_link else APPROVE_HINT
        out["body"] = "\n".join(p for p in (str(out.get("body") or ""), hint) if p)
    return out


def escaped(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Every text value of ``ctx`` escaped for markdown (links made by the system excepted)."""
    return {
        key: escape_markdown(value, multiline=key in MULTILINE_KEYS)
        if isinstance(value, str) and key not in LINK_KEYS
        else value
        for key, value in ctx.items()
    }
