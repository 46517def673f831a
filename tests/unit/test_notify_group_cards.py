"""Group robot cards (pure): no decision link, no amount unless allowed, user text escaped."""

from __future__ import annotations

from services.notify import group_cards, templates
from services.notify.group_cards import escape_markdown, group_context


def test_escape_markdown_disarms_links_markup_and_line_starts() -> None:
    assert escape_markdown("[奖](https://evil.example)") == "\\[奖\\]\\(https:\u200b//evil.example\\)"
    assert escape_markdown("<font color=red>急</font>") == "\\<font color=red\\>急\\</font\\>"
    assert escape_markdown("甲\n### 假标题") == "甲 \\#\\#\\# 假标题"  # one-line values stay one line
    assert escape_markdown("同意\n- 列表\n1. 编号", multiline=True) == "同意\n\\- 列表\n1\\. 编号"
    assert escape_markdown("智慧园区（一期）120000.00") == "智慧园区（一期）120000.00"


def test_group_context_drops_the_link_and_the_amount_unless_allowed() -> None:
    ctx = {"kind": "approval_request", "action_url": "https://b.example/a/tok", "amount": "987654.32",
           "name": "园区", "body": "名称：园区\n金额：987654.32 元\n审批环节：经理"}
    hidden = group_context(ctx, show_amount=False)
    assert hidden["action_url"] == "" and "amount" not in hidden
    assert "987654" not in hidden["body"] and "审批环节：经理" in hidden["body"]
    assert group_cards.APPROVE_HINT in hidden["body"]
    shown = group_context(ctx, show_amount=True)
    assert shown["action_url"] == "" and shown["amount"] == "987654.32" and "987654.32 元" in shown["body"]
    md = templates.render(templates.BUILTINS["approval_request"], group_cards.escaped(hidden)).markdown
    assert "/a/" not in md and "987654" not in md and "打开审批页面" not in md
