"""The later stages of a registration in the browser, at desktop and phone sizes: the 团队 tab (the
owner names a PM and a member; the PM, who could not see the project before, plans a task; an
observer reads the team without edit controls), 再次发起 on a rejected registration (the owner lands
on the new draft's edit page with the fields copied), the 复盘 tab of a closed project (the owner
records outcome, reason, lessons and tags; cost vs budget and schedule vs baseline are shown; the
PDF downloads as ``<code>-复盘报告.pdf``; a colleague outside the project cannot reach it) and the
经验库 page (search, tag and outcome filters). Data is set up over the API as the demo people;
every date is explicit (nothing depends on today)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.browser import seed
from tests.browser.conftest import UI, accessible, no_raw_json, shot, wait_until

SIZES = ("desktop", "phone")
LESSON = "需求冻结要早于采购下单"  # a phrase only this module's review contains
TAG = "需求变更"


@dataclass(frozen=True)
class Staged:
    stamp: str
    team_id: str  # active, amount below 100000: only 李四 approves; 赵六 and 王五 not involved
    team_name: str
    rejected: dict[str, tuple[str, str, str]]  # size → (id, name, customer)
    closed_id: str  # closed, with a baseline, a slipped task and a recorded cost
    closed_code: str
    closed_name: str


def _decide(c: httpx.Client, project_id: str, action: str, comment: str) -> None:
    todo: list[dict[str, Any]] = []

    def waiting() -> bool:
        todo[:] = [t for t in c.get("/api/v1/me/todos").raise_for_status().json()["items"]
                   if t["project_id"] == project_id]
        return bool(todo)

    wait_until(waiting)
    r = c.post(f"/api/v1/approval-tasks/{todo[0]['id']}/decision", json={"action": action, "comment": comment})
    assert r.status_code == 200, r.text


def _status(c: httpx.Client, project_id: str) -> str:
    return str(c.get(f"/api/v1/projects/{project_id}").raise_for_status().json()["status"])


@pytest.fixture(scope="module")
def staged(people: dict[str, httpx.Client]) -> Iterator[Staged]:
    rep, manager = people[seed.REP.id], people[seed.MANAGER.id]
    stamp = str(int(time.time() * 1000))[-6:]

    def register(name: str, customer: str, amount: str, **fields: Any) -> dict[str, Any]:
        r = rep.post("/api/v1/projects", json={
            "form_key": seed.FORM_KEY, "name": name, "amount": amount, "region": "华东", "business_line": "数据中台",
            "customer": {"name": customer, "contact": "钱经理"},
            "fields": {"industry": "制造", "bid_type": "单一来源", **fields}, "submit": True,
        })
        assert r.status_code == 201, r.text
        return dict(r.json())

    # 团队: approved by 李四 alone (below 100000).
    team_name = f"昆山精密制造MES{stamp}"
    team = register(team_name, f"昆山精密机械{stamp}", "60000", summary="MES 一期")
    _decide(manager, team["id"], "approve", "同意")

    # 再次发起: one rejected registration per size.
    rejected: dict[str, tuple[str, str, str]] = {}
    for size in SIZES:
        name, customer = f"无锡园区安防{size}{stamp}", f"无锡园区管委会{size}{stamp}"
        p = register(name, customer, "45000", summary="安防一期（被驳回后再次发起）", headcount=3)
        _decide(manager, p["id"], "reject", "客户预算未落实")
        rejected[size] = (p["id"], name, customer)

    # 复盘: planned with a baseline, one task moved a week later, a cost recorded, then closed.
    closed_name = f"南通港口数据治理{stamp}"
    closed = register(closed_name, f"南通港口集团{stamp}", "80000", summary="数据治理一期")
    _decide(manager, closed["id"], "approve", "同意")
    for pid in (team["id"], closed["id"]):
        wait_until(lambda pid=pid: _status(rep, pid) == "active")  # type: ignore[misc]
    r = rep.post(f"/api/v1/projects/{closed['id']}/tasks",
                 json={"name": "数据盘点", "start": "2027-03-01", "duration_days": 5})
    assert r.status_code == 201, r.text
    task_id = r.json()["id"]
    rep.post(f"/api/v1/projects/{closed['id']}/baselines", json={"name": "初版"}).raise_for_status()
    rep.patch(f"/api/v1/tasks/{task_id}", json={"start": "2027-03-08", "delay_reason": "customer"}).raise_for_status()
    r = rep.post(f"/api/v1/projects/{closed['id']}/costs",
                 json={"kind": "expense", "amount": "60000", "note": "数据盘点外包", "at": "2027-03-05"})
    assert r.status_code == 201, r.text
    r = rep.post(f"/api/v1/projects/{closed['id']}/close", json={"comment": "项目结束"})
    assert r.status_code == 200, r.text
    wait_until(lambda: _status(rep, closed["id"]) == "closed")
    for size in SIZES:
        wait_until(lambda size=size: _status(rep, rejected[size][0]) == "rejected")  # type: ignore[misc]
    yield Staged(stamp, team["id"], team_name, rejected, closed["id"], closed["code"], closed_name)


def open_tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_function(
        "n => document.querySelector('[role=tab][aria-selected=true]')?.textContent.includes(n)", arg=name
    )


def settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # transitions (tags, tabs) before the screenshot and axe


def select_box(page: Any, label: str) -> Any:
    """The clickable box of an Element Plus select whose input is labelled `label`."""
    return page.locator(".el-select__wrapper", has=page.get_by_role("combobox", name=label, exact=True))


def pick_person(page: Any, label: str, name: str) -> None:
    select_box(page, label).click()
    box = page.get_by_role("combobox", name=label, exact=True)
    box.fill(name)
    page.locator(".el-select-dropdown__item:visible", has_text=name).first.click()


def choose_role(page: Any, label: str, role: str) -> None:
    select_box(page, label).click()
    page.locator(".el-select-dropdown__item:visible", has_text=re.compile(f"^{re.escape(role)}$")).click()


# ------------------------------------------------------------------------------------------ 团队


@pytest.mark.parametrize("size", SIZES)
def test_owner_sets_pm_and_member(ui: UI, people: dict[str, httpx.Client], staged: Staged, size: str) -> None:
    rep = people[seed.REP.id]
    # Back to the team approval gave it (the owner as PM): each size edits it from there.
    rep.put(f"/api/v1/projects/{staged.team_id}/team",
            json={"members": [{"user_id": seed.REP.id, "role": "pm"}]}).raise_for_status()
    assert people[seed.ENGINEER.id].get(f"/api/v1/projects/{staged.team_id}").status_code == 404

    page = ui.page(seed.REP, size=size)
    page.goto(f"/projects/{staged.team_id}?tab=team")
    team = page.locator("section.team")
    team.get_by_text("张三", exact=True).wait_for()
    assert "项目经理" in team.inner_text()
    settle(page)
    no_raw_json(page)
    shot(page, "team-owner")
    accessible(page, f"team tab ({size})")

    page.get_by_role("button", name="编辑团队").click()
    choose_role(page, "第 1 位成员的角色", "成员")  # the owner stays, as a member
    page.get_by_role("button", name="添加成员").click()
    pick_person(page, "第 2 位成员", "赵六")
    choose_role(page, "第 2 位成员的角色", "项目经理")
    page.get_by_role("button", name="添加成员").click()
    pick_person(page, "第 3 位成员", "李四")
    assert seed.ENGINEER.id not in team.inner_text()  # names, never ids
    assert page.get_by_role("button", name="移除 赵六").is_visible()
    settle(page)
    no_raw_json(page)
    shot(page, "team-editing")
    accessible(page, f"team editing ({size})")

    page.get_by_role("button", name="保存团队").click()
    page.get_by_text("团队已保存").wait_for()
    page.get_by_role("button", name="编辑团队").wait_for()
    rows = {r["user_id"]: r["role"] for r in rep.get(f"/api/v1/projects/{staged.team_id}/team").json()["members"]}
    assert rows == {seed.REP.id: "member", seed.ENGINEER.id: "pm", seed.MANAGER.id: "member"}
    text = team.inner_text()
    assert "赵六" in text and "李四" in text and seed.ENGINEER.id not in text
    settle(page)
    no_raw_json(page)
    shot(page, "team-saved")
    accessible(page, f"team saved ({size})")


@pytest.mark.parametrize("size", SIZES)
def test_pm_sees_the_project_and_adds_a_task(ui: UI, people: dict[str, httpx.Client], staged: Staged,
                                              size: str) -> None:
    people[seed.REP.id].put(f"/api/v1/projects/{staged.team_id}/team", json={"members": [
        {"user_id": seed.REP.id, "role": "member"}, {"user_id": seed.ENGINEER.id, "role": "pm"},
    ]}).raise_for_status()
    page = ui.page(seed.ENGINEER, size=size)
    page.goto("/projects")
    page.get_by_text(staged.team_name).first.click()  # listed for the PM
    page.wait_for_url(re.compile(f"/projects/{staged.team_id}"))
    page.get_by_role("heading", name=re.compile(staged.team_name)).wait_for()
    assert page.get_by_role("button", name="关闭项目").count() == 0  # closing stays the owner's
    open_tab(page, "执行")
    page.get_by_role("button", name="新增任务").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("任务名称").wait_for()
    page.wait_for_timeout(600)  # the dialog's opening transition
    dialog.get_by_label("任务名称").fill(f"现场调研-{size}")
    dialog.get_by_label("工期（工作日）").fill("3")
    no_raw_json(page)
    shot(page, "team-pm-add-task")
    accessible(page, f"PM adds a task ({size})")
    dialog.get_by_role("button", name="保存").click()
    page.get_by_text("任务已添加").wait_for()
    page.locator(".task-table").get_by_text(f"现场调研-{size}").wait_for()
    tasks = people[seed.ENGINEER.id].get(f"/api/v1/projects/{staged.team_id}/tasks").json()["items"]
    assert any(t["name"] == f"现场调研-{size}" for t in tasks)
    settle(page)
    no_raw_json(page)
    shot(page, "team-pm-execution")
    accessible(page, f"PM execution ({size})")


@pytest.mark.parametrize("size", SIZES)
def test_observer_reads_the_team(ui: UI, people: dict[str, httpx.Client], staged: Staged, size: str) -> None:
    people[seed.REP.id].put(f"/api/v1/projects/{staged.team_id}/team", json={"members": [
        {"user_id": seed.REP.id, "role": "member"}, {"user_id": seed.ENGINEER.id, "role": "pm"},
        {"user_id": seed.FINANCE.id, "role": "observer"},
    ]}).raise_for_status()
    page = ui.page(seed.FINANCE, size=size)
    page.goto(f"/projects/{staged.team_id}?tab=team")
    team = page.locator("section.team")
    team.get_by_text("观察者", exact=True).wait_for()
    text = team.inner_text()
    assert "赵六" in text and "王五" in text and "项目经理" in text
    assert page.get_by_role("button", name="编辑团队").count() == 0
    assert page.get_by_role("button", name="保存团队").count() == 0
    settle(page)
    no_raw_json(page)
    shot(page, "team-observer")
    accessible(page, f"team observer ({size})")
    open_tab(page, "执行")
    page.get_by_test_id("gantt").wait_for()
    assert page.get_by_role("button", name="新增任务").count() == 0  # observers only read
    assert people[seed.FINANCE.id].put(f"/api/v1/projects/{staged.team_id}/team",
                                       json={"members": []}).status_code == 403


# ------------------------------------------------------------------------------------ 再次发起


@pytest.mark.parametrize("size", SIZES)
def test_copy_a_rejected_registration(ui: UI, people: dict[str, httpx.Client], staged: Staged, size: str) -> None:
    source_id, name, customer = staged.rejected[size]
    page = ui.page(seed.REP, size=size)
    page.goto(f"/projects/{source_id}")
    page.get_by_role("heading", name=re.compile(name)).wait_for()
    assert "已驳回" in page.locator(".pj-head").inner_text()
    settle(page)
    no_raw_json(page)
    shot(page, "copy-rejected")
    accessible(page, f"rejected registration ({size})")

    page.get_by_role("button", name="再次发起").click()
    page.wait_for_url(re.compile(r"/projects/[^/]+/edit"))
    new_id = page.url.split("/projects/")[1].split("/")[0]
    assert new_id != source_id
    page.get_by_label("项目名称").wait_for()
    wait_until(lambda: page.get_by_label("项目名称").input_value() == name)
    assert page.get_by_label("客户名称").input_value() == customer
    assert page.get_by_label("区域").input_value() == "华东"
    assert page.get_by_label("投入人数").input_value() == "3"
    assert "安防一期（被驳回后再次发起）" in page.locator("textarea").evaluate_all("ts => ts.map(t => t.value).join()")
    copy = people[seed.REP.id].get(f"/api/v1/projects/{new_id}").json()
    assert copy["status"] == "draft" and copy["amount"] in ("45000", "45000.00")
    settle(page)
    no_raw_json(page)
    shot(page, "copy-draft-edit")
    accessible(page, f"copied draft edit ({size})")


# ------------------------------------------------------------------------------------------ 复盘


@pytest.mark.parametrize("size", SIZES)
def test_owner_records_the_review(ui: UI, people: dict[str, httpx.Client], staged: Staged, size: str) -> None:
    page = ui.page(seed.REP, size=size)
    page.goto(f"/projects/{staged.closed_id}")
    page.get_by_role("heading", name=re.compile(staged.closed_name)).wait_for()
    open_tab(page, "复盘")
    review = page.locator("section.rv")
    start = page.get_by_role("button", name=re.compile("^(填写复盘|编辑复盘)$"))
    start.wait_for()
    if size == "desktop":
        assert start.inner_text().strip() == "填写复盘"  # the first time: nothing recorded yet
        review.get_by_text("该项目尚未复盘").wait_for()
    start.click()
    page.get_by_role("radio", name="已交付").wait_for()
    page.locator(".rv-form label", has_text="已交付").click()
    page.get_by_label("结果原因").fill("按期交付，客户验收通过")
    page.get_by_label("经验教训").fill(f"{LESSON}；数据口径在启动会上确认。")
    select_box(page, "标签").click()
    tags = page.get_by_role("combobox", name="标签", exact=True)
    for tag in (TAG, f"数据治理{size}"):
        if select_box(page, "标签").locator(".el-tag", has_text=tag).count():
            continue  # an edit starts from the saved tags
        tags.fill(tag)
        page.locator(".el-select-dropdown__item:visible", has_text=tag).first.click()  # the created option
        select_box(page, "标签").locator(".el-tag", has_text=tag).wait_for()
    page.keyboard.press("Escape")
    settle(page)
    no_raw_json(page)
    shot(page, "review-form")
    accessible(page, f"review form ({size})")
    page.get_by_role("button", name="保存复盘").click()
    page.get_by_text("复盘已保存").wait_for()
    page.get_by_role("button", name="编辑复盘").wait_for()
    saved = people[seed.REP.id].get(f"/api/v1/projects/{staged.closed_id}/review").json()
    assert saved["outcome"] == "delivered" and LESSON in saved["lessons"] and TAG in saved["tags"]


@pytest.mark.parametrize("size", SIZES)
def test_review_shows_cost_and_schedule_and_downloads(ui: UI, staged: Staged, size: str) -> None:
    page = ui.page(seed.REP, size=size)
    page.goto(f"/projects/{staged.closed_id}?tab=review")
    review = page.locator("section.rv")
    review.get_by_text(LESSON).wait_for()
    text = review.inner_text()
    assert "已交付" in text and "按期交付，客户验收通过" in text and TAG in text
    assert "¥80,000.00" in text and "¥60,000.00" in text and "75.0%" in text  # cost vs budget
    assert "2027-03-05" in text and "2027-03-12" in text  # baseline and (planned) finish
    assert "张三" in text and seed.REP.id not in text  # reviewed by, as a name
    assert "-¥20,000.00" in text  # under budget: the sign before the currency
    assert "数据盘点" in text and "客户原因" in text and "customer" not in text  # delay reasons by label
    settle(page)
    no_raw_json(page)
    shot(page, "review-view")
    accessible(page, f"review view ({size})")
    with page.expect_download() as dl:
        page.get_by_role("button", name="下载复盘报告 PDF").click()
    assert dl.value.suggested_filename == f"{staged.closed_code}-复盘报告.pdf"
    with open(dl.value.path(), "rb") as f:
        assert f.read(5) == b"%PDF-"
    page.get_by_text(f"已下载 {staged.closed_code}-复盘报告.pdf").wait_for()


@pytest.mark.parametrize("size", SIZES)
def test_colleague_outside_the_project_cannot_reach_the_review(ui: UI, people: dict[str, httpx.Client],
                                                               staged: Staged, size: str) -> None:
    page = ui.page(seed.ENGINEER, size=size)  # 赵六: not on the team, no task, no approval
    page.goto(f"/projects/{staged.closed_id}?tab=review")
    page.locator(".el-result").get_by_text("项目不存在，或您没有查看权限").wait_for()
    text = page.locator("main").inner_text()
    assert staged.closed_name not in text and LESSON not in text and staged.closed_id not in text  # no raw id
    page.get_by_role("link", name="我的报备").last.wait_for()  # a way back instead of 重试
    assert page.get_by_role("tab", name="复盘").count() == 0
    settle(page)
    no_raw_json(page)
    shot(page, "review-not-visible")
    accessible(page, f"review not visible ({size})")
    c = people[seed.ENGINEER.id]
    assert c.get(f"/api/v1/projects/{staged.closed_id}/review").status_code == 404
    assert c.get(f"/api/v1/projects/{staged.closed_id}/review.pdf").status_code == 404


# ---------------------------------------------------------------------------------------- 经验库


@pytest.mark.parametrize("size", SIZES)
def test_lessons_search_and_filters(ui: UI, staged: Staged, size: str) -> None:
    page = ui.page(seed.REP, size=size)
    page.goto("/lessons")
    page.get_by_role("heading", name="经验库").wait_for()
    search = page.get_by_label("搜索经验教训、原因、项目")
    search.fill("需求冻结")
    search.press("Enter")
    item = page.locator(".ls-item", has_text=staged.closed_name)
    item.wait_for()
    assert LESSON in item.inner_text() and "已交付" in item.inner_text()
    assert page.locator(".ls-item").count() == 1
    settle(page)
    no_raw_json(page)
    shot(page, "lessons-search")
    accessible(page, f"lessons search ({size})")

    # Tag quick filter: the chips are the tags of the matches, with counts.
    search.fill("")
    search.press("Enter")
    page.locator(".ls-tags").get_by_text(re.compile(f"^{TAG}（")).click()
    page.wait_for_load_state("networkidle")
    item.wait_for()
    wait_until(lambda: all(TAG in t for t in page.locator(".ls-item").all_inner_texts()))

    # Outcome: 丢单 hides it, 已交付 finds it again.
    outcome = select_box(page, "结果")
    outcome.click()
    page.locator(".el-select-dropdown__item:visible", has_text="丢单").click()
    page.get_by_role("button", name="搜索").click()
    page.get_by_text("没有找到经验教训").wait_for()
    page.locator(".ls-tags").get_by_text(f"{TAG}（0）").wait_for()  # the chosen tag stays, to be cleared
    settle(page)
    no_raw_json(page)
    shot(page, "lessons-empty")
    accessible(page, f"lessons empty ({size})")
    outcome.click()
    page.locator(".el-select-dropdown__item:visible", has_text="已交付").click()
    page.get_by_role("button", name="搜索").click()
    item.wait_for()

    item.get_by_role("link").click()
    page.wait_for_url(re.compile(f"/projects/{staged.closed_id}"))
    page.locator("section.rv").get_by_text(LESSON).wait_for()


def test_lessons_hide_projects_the_caller_cannot_see(ui: UI, staged: Staged) -> None:
    page = ui.page(seed.ENGINEER)
    page.goto("/lessons")
    page.get_by_role("heading", name="经验库").wait_for()
    search = page.get_by_label("搜索经验教训、原因、项目")
    search.fill("需求冻结")
    search.press("Enter")
    page.get_by_text("没有找到经验教训").wait_for()
    assert staged.closed_name not in page.locator("main").inner_text()
