"""Issue 12 item 6: the 500s / 503s an API fuzzer found are 4xx in the contract's shape now:
numbers that do not fit a service's int32 fields (portfolio offset, form and policy settings,
versions), a body with a thousand bad entries (whose violations overflowed the gRPC trailer and
came back as 503), and a chart of a report whose table is narrower than the chart expects."""

from __future__ import annotations

import httpx

from tests.edge.conftest import Org, Stack

BIG = 99_999_999_999


def assert_4xx(r: httpx.Response, status: int = 422) -> dict:
    assert r.status_code == status, r.text[:500]
    body = r.json()["error"]
    assert body["code"] and body["message"] and isinstance(body["details"], list)
    return body


async def test_portfolio_with_a_huge_offset(stack: Stack, org: Org) -> None:
    for params in ({"offset": BIG, "format": "svg"}, {"offset": 2**31}, {"offset": 10**30, "format": "csv"}):
        body = assert_4xx(await org["rep"].get("/api/v1/reports/portfolio", params=params))
        assert [d["field"] for d in body["details"]] == ["offset"]
    assert (await org["rep"].get("/api/v1/reports/portfolio", params={"offset": 2**31 - 1})).status_code == 200


async def test_plan_template_and_delay_reasons_with_many_empty_entries(admin: httpx.AsyncClient, org: Org) -> None:
    tasks = [{"key": f"k{i}", "name": ""} for i in range(499)]
    body = assert_4xx(await admin.put(f"/api/v1/plan-templates/bl-{org.run}", json={"tasks": tasks}))
    assert body["details"] and body["details"][0]["field"].startswith("tasks[0]")
    reasons = [{"code": "", "label": ""} for _ in range(499)]
    body = assert_4xx(await admin.put("/api/v1/delay-reasons", json={"reasons": reasons}))
    assert body["details"]


async def test_numbers_beyond_the_services_fields(admin: httpx.AsyncClient, org: Org) -> None:
    field = {"key": "a", "label": "a", "type": "text", "min_length": BIG, "max_length": BIG}
    body = assert_4xx(await admin.put(f"/api/v1/forms/f-{org.run}", json={"title": "t", "fields": [field]}))
    assert {d["field"] for d in body["details"]} == {"fields[0].min_length", "fields[0].max_length"}
    settings = {"protection_days": BIG, "protection_remind_days": 2**31}
    form = {"title": "t", "fields": [], "settings": settings}
    body = assert_4xx(await admin.put(f"/api/v1/forms/g-{org.run}", json=form))
    assert {d["field"] for d in body["details"]} == {"settings.protection_days", "settings.protection_remind_days"}
    step = {"name": "a", "approvers": {"type": "manager_of_submitter"}, "mode": "ratio", "min_approvals": BIG}
    policy = {"form_key": "x", "steps": [step]}
    body = assert_4xx(await admin.put(f"/api/v1/approval-policies/p-{org.run}", json=policy))
    assert [d["field"] for d in body["details"]] == ["steps[0].min_approvals"]
    body = assert_4xx(await org["rep"].patch("/api/v1/projects/x", json={"version": BIG}))
    assert [d["field"] for d in body["details"]] == ["version"]
    body = assert_4xx(await org["rep"].patch("/api/v1/tasks/x", json={"version": BIG}))
    assert [d["field"] for d in body["details"]] == ["version"]
    decision = {"action": "return", "to_step": BIG}
    body = assert_4xx(await org["boss"].post("/api/v1/approval-tasks/x/decision", json=decision))
    assert [d["field"] for d in body["details"]] == ["to_step"]


async def test_chart_of_a_report_without_the_charted_columns(org: Org) -> None:
    r = await org["rep"].get("/api/v1/reports/analytics/approvers", params={"format": "svg", "chart": "bar"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("image/svg+xml")


async def test_report_dates_at_the_ends_of_the_calendar(org: Org) -> None:
    # 0001-01-01 starts before year 1 in UTC; the day after 9999-12-31 does not exist: no bound.
    for params in ({"from": "0001-01-01", "to": "9999-12-31"}, {"to": "9999-12-31", "format": "svg"}):
        r = await org["rep"].get("/api/v1/reports/portfolio", params=params)
        assert r.status_code == 200, r.text[:300]
    r = await org["rep"].get("/api/v1/reports/analytics/conversion", params={"from": "0001-01-01", "to": "9999-12-31"})
    assert r.status_code == 200, r.text[:300]


async def test_report_settings_with_an_absurd_hour_rate(admin: httpx.AsyncClient) -> None:
    r = await admin.put("/api/v1/reports/settings", json={"hour_rate": "1e999999"})
    body = assert_4xx(r)
    assert [d["field"] for d in body["details"]] == ["settings.hour_rate"]
