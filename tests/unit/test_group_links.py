"""Group action links (pure): their tokens are another kind than personal ones, the robot card's
hint, and what a signed-in user may do with one (usable / used / decided / not_assignee)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from baobei.core.errors import Forbidden
from services.approval import group_links as rules
from services.approval.group_links import GroupLinkFacts
from services.notify import group_cards, links, templates

KEY = "k" * 40
AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def refused(token: str, *, group: bool) -> str:
    with pytest.raises(Forbidden) as err:
        links.verify(KEY, token, max_age_seconds=10**9, group=group)
    return err.value.code


def test_group_and_personal_tokens_never_stand_in_for_each_other() -> None:
    personal = links.token_for(KEY, "link-1", AT)
    group = links.token_for(KEY, "link-1", AT, group=True)
    assert personal != group
    assert links.token_for(KEY, "link-1", AT, group=True) == group  # derived, the same every time
    assert links.verify(KEY, group, max_age_seconds=10**9, group=True).link_id == "link-1"
    assert links.verify(KEY, personal, max_age_seconds=10**9).link_id == "link-1"
    assert refused(group, group=False) == "link_invalid"
    assert refused(personal, group=True) == "link_invalid"
    assert refused(links.token_for("x" * 40, "link-1", AT, group=True), group=True) == "link_invalid"
    assert links.group_url("https://b.example/", group) == f"https://b.example/a/g/{group}"


def test_group_token_expires_with_its_lifetime() -> None:
    old = links.token_for(KEY, "link-1", datetime(2020, 1, 1, tzinfo=UTC), group=True)
    with pytest.raises(Forbidden) as err:
        links.verify(KEY, old, max_age_seconds=3600, group=True)
    assert err.value.code == "link_expired"


def test_group_card_hint_tells_to_sign_in_and_keeps_links_out_of_the_text() -> None:
    ctx = {"kind": "approval_request", "action_url": "https://b.example/a/tok", "amount": "987654.32",
           "name": "园区", "body": "名称：园区\n金额：987654.32 元"}
    card = group_cards.group_context(ctx, show_amount=False, group_link=True)
    assert card["action_url"] == "" and group_cards.GROUP_LINK_HINT in card["body"]
    assert group_cards.APPROVE_HINT not in card["body"] and "987654" not in card["body"]
    md = templates.render(templates.BUILTINS["approval_request"], group_cards.escaped(card)).markdown
    assert "/a/" not in md and "登录" in md


def test_use_ids_and_channels() -> None:
    assert rules.use_id("L1", "T1") == "g:L1:T1" and rules.use_id("L1", "T1").startswith(rules.use_prefix("L1"))
    assert rules.channel_of("g:L1:T1") == "group_link" and rules.channel_of("6f1c-uuid") == "link"
    assert len(rules.use_id("0" * 36, "t" * 40)) <= 100  # approval_link_use.link_id


def facts(**over: object) -> GroupLinkFacts:
    base: dict[str, object] = dict(used_by_actor=False, opening_current=True, step_pending=True,
                                   instance_pending=True, actionable=True, own_kept=1, acted_as_delegate=False)
    base.update(over)
    return GroupLinkFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("over", "expected"), [
    ({}, "usable"),
    ({"own_kept": 0}, "usable"),  # a delegate acting on somebody's pending task
    ({"used_by_actor": True}, "used"),  # once per approver, whatever happened since
    ({"used_by_actor": True, "opening_current": False}, "used"),
    ({"actionable": False}, "decided"),  # their own task decided by other means
    ({"step_pending": False, "actionable": False}, "decided"),  # another approver settled the step
    ({"instance_pending": False}, "decided"),  # withdrawn / cancelled while their task was open
    ({"actionable": False, "own_kept": 0}, "not_assignee"),  # not an approver of that step
    ({"actionable": False, "own_kept": 0, "acted_as_delegate": True}, "decided"),
    ({"opening_current": False, "had_part_before": True}, "decided"),  # step reopened since
    ({"opening_current": False, "had_part_before": False}, "not_assignee"),
])
def test_group_link_state(over: dict[str, object], expected: str) -> None:
    assert rules.state(facts(**over)) == expected
