"""Comments and @mentions in the browser, at desktop and phone sizes: 张三 (the owner) opens the
project's 评论 tab, @-mentions 王五 who may not see the project (the refusal is shown at the input,
in words, never as JSON), then picks 李四 from the @ list and posts; 李四 finds the mention in the
notification inbox, opens it at the highlighted comment and replies; 张三 is told of the reply.
Screenshots and axe checks on each page."""

from __future__ import annotations

import re
import uuid

import pytest

from cli.devstack import DevStack
from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot, wait_until
from tests.browser.test_work import as_person, calm, new_project, notifications

SIZES = ("desktop", "phone")


def mention(page: object, box: object, typed: str, name: str) -> None:
    """Type `@<typed>` at the end of the input and pick `name` from the people list."""
    box.press("End")  # type: ignore[attr-defined]
    box.press_sequentially(f"@{typed}", delay=30)  # type: ignore[attr-defined]
    option = page.get_by_role("option", name=re.compile(name))  # type: ignore[attr-defined]
    option.first.wait_for()
    option.first.dispatch_event("mousedown")


@pytest.mark.parametrize("size", SIZES)
def test_mention_reply_and_inbox(ui: UI, web_stack: DevStack, size: str) -> None:
    tag = f"{size}{uuid.uuid4().hex[:4]}"
    project_id = new_project(web_stack, f"评论测试{tag}")

    page = ui.page(seed.REP, size=size)
    page.goto(f"/projects/{project_id}?tab=comments")
    page.get_by_role("heading", name=re.compile("评论"), level=2).wait_for()
    page.get_by_text("还没有评论").wait_for()
    box = page.get_by_role("combobox", name=re.compile("写评论"))

    # 王五 (finance, another department, not on the approval) may not see the project: refused at the input.
    box.fill("报价请看 ")
    mention(page, box, "王", "王五")
    assert "@王五 " in box.input_value()
    page.get_by_text(re.compile("将通知：王五")).wait_for()
    page.get_by_role("button", name="发表评论").click()
    alert = page.locator(".cc-errors[role=alert]").first
    alert.wait_for()
    assert "王五 无权查看该项目" in alert.inner_text()
    no_raw_json(page)
    shot(page, "comments-refused")
    accessible(page, "comments refused")

    # 李四 (the manager, the approver) may: picked with the keyboard this time.
    box.fill(f"李经理请看下报价（{tag}） ")
    box.press("End")
    box.press_sequentially("@li", delay=30)
    page.get_by_role("option", name=re.compile("李四")).first.wait_for()
    box.press("Enter")
    assert box.input_value().endswith("@李四 ")
    page.get_by_role("button", name="发表评论").click()
    page.get_by_text("已通知 李四").wait_for()
    posted = page.locator("article.cm", has_text=tag).first
    posted.wait_for()
    assert posted.locator(".cm-at").inner_text() == "@李四"
    calm(page)
    shot(page, "comments")
    accessible(page, "comments")

    # 李四: the mention is in the inbox; opening it shows the comment, marked; 李四 replies.
    with as_person(web_stack, seed.MANAGER) as manager:
        wait_until(lambda: bool(notifications(manager, "mentioned", project_id)), 30)
    page = ui.page(seed.MANAGER, size=size)
    page.goto("/notifications")
    note = page.locator(".wk-note", has_text=f"评论测试{tag}").filter(has_text="@ 了您").first
    note.wait_for()
    assert "评论中@我" in note.inner_text() or "@ 了您" in note.inner_text()
    shot(page, "comments-inbox")
    accessible(page, "comments inbox")
    note.locator(".wk-note-title").click()
    page.wait_for_url(re.compile(f"/projects/{project_id}\\?comment="))
    marked = page.locator("article.cm.hl", has_text=tag)
    marked.wait_for()
    marked.get_by_role("button", name=re.compile("^回复")).click()
    reply = page.get_by_role("combobox", name=re.compile("回复 张三"))
    reply.fill("收到，今天看")
    page.locator(".cm-reply").get_by_role("button", name="回复", exact=True).click()
    page.get_by_text("评论已发表").wait_for()
    page.locator("article.cm.reply", has_text="收到，今天看").wait_for()
    calm(page)
    shot(page, "comments-reply")
    accessible(page, "comments reply")

    with as_person(web_stack, seed.REP) as rep:
        wait_until(lambda: bool(notifications(rep, "comment_replied", project_id)), 30)
        threads = rep.get(f"/api/v1/projects/{project_id}/comments").json()["items"]
        assert [t["mentions"] for t in threads] == [[seed.MANAGER.id]]
        assert [r["body"] for r in threads[0]["replies"]] == ["收到，今天看"]
