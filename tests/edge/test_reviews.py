"""Closing reviews (复盘) over HTTP: a review recorded with the close, read back as JSON, edited
after the close by the owner (not by someone who only sees the project), the one-page HTML and PDF
reports, the lessons search limited to what the caller may see, and analytics by outcome."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, eventually
from tests.edge.test_approval_form_pdf import texts
from tests.edge.test_approvals import submitted, todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def active(admin: httpx.AsyncClient, org: Org) -> str:
    _, pid = await submitted(admin, org)
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    return pid


def review_body(**kw: Any) -> dict[str, Any]:
    return {"outcome": "delivered", "reason": "按期验收", "lessons": "需求冻结要早，接口联调留余量",
            "tags": ["需求", "联调"], **kw}


async def test_close_with_review_then_edit_and_read(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active(admin, org)
    # Not closed yet: no review to read, none may be recorded.
    assert (await org["rep"].get(f"/api/v1/projects/{pid}/review")).status_code == 404
    r = await org["rep"].put(f"/api/v1/projects/{pid}/review", json=review_body())
    assert r.status_code == 409 and r.json()["error"]["code"] == "illegal_state", r.text
    # A bad outcome on close: 422 naming the field, and the project stays active.
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"review": {"outcome": "maybe"}})
    assert r.status_code == 422, r.text
    assert any(d["field"].endswith("review.outcome") for d in r.json()["error"]["details"]), r.text

    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"comment": "验收完成", "review": review_body()})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text

    async def reviewed() -> dict[str, Any] | None:
        got = await org["rep"].get(f"/api/v1/projects/{pid}/review")
        return got.json() if got.status_code == 200 else None

    review = await eventually(reviewed)
    assert review["outcome"] == "delivered" and review["outcome_label"] == "已交付"
    assert review["tags"] == ["需求", "联调"] and review["reason"] == "按期验收"
    assert review["budget"] == "120000.00" and review["cost"] == "0.00" and review["cost_ratio"] == 0.0
    assert review["delay_summary"] == "无延期任务" and review["delay_summary_generated"] is True
    assert review["status"] == "closed" and review["closed_at"]

    # Someone who sees the project (the approving manager) but is neither owner, PM nor admin: 403.
    assert (await org["boss"].get(f"/api/v1/projects/{pid}/review")).status_code == 200
    r = await org["boss"].put(f"/api/v1/projects/{pid}/review", json=review_body(outcome="lost"))
    assert r.status_code == 403, r.text
    # Someone who cannot see it: 404, for reading and writing alike.
    assert (await org["outsider"].get(f"/api/v1/projects/{pid}/review")).status_code == 404
    assert (await org["outsider"].put(f"/api/v1/projects/{pid}/review", json=review_body())).status_code == 404
    # The owner edits it after the close; the latest save counts.
    r = await org["rep"].put(f"/api/v1/projects/{pid}/review", json=review_body(
        outcome="won", lessons="报价前先确认预算口径", tags=["报价", "报价", " 需求 "], delay_summary="无延期"))
    assert r.status_code == 200, r.text
    assert (r.json()["outcome"], r.json()["tags"], r.json()["delay_summary"]) == ("won", ["报价", "需求"], "无延期")
    r = await admin.get("/api/v1/audit-log", params={"action": "review.saved", "limit": 50})
    assert r.status_code == 200, r.text
    assert any(e.get("target_id") == pid and e["details"].get("outcome") == "won" for e in r.json()["items"]), r.json()
    r = await org["rep"].put(f"/api/v1/projects/{pid}/review", json={"outcome": "won", "tags": ["x" * 41]})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"].startswith("tags"), r.text


async def test_review_html_and_pdf(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active(admin, org)
    body = {"review": review_body(lessons="联调环境要提前申请")}
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json=body)
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    html = await org["rep"].get(f"/api/v1/projects/{pid}/review.html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html"), html.text
    for needle in ("项目复盘报告", code, "已交付", "联调环境要提前申请", "¥120,000.00", "需求"):
        assert needle in html.text, needle
    pdf = await org["rep"].get(f"/api/v1/projects/{pid}/review.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text[:200]
    assert pdf.headers["content-type"] == "application/pdf"
    assert "%E5%A4%8D%E7%9B%98%E6%8A%A5%E5%91%8A.pdf" in pdf.headers["content-disposition"]  # 复盘报告.pdf
    shown = "".join(texts(pdf.content))
    for needle in ("项目复盘报告", code, "已交付", "联调环境要提前申请", "¥120,000.00", "第 1 / 1 页"):
        assert needle in shown, needle
    assert (await org["outsider"].get(f"/api/v1/projects/{pid}/review.pdf")).status_code == 404
    assert (await org["outsider"].get(f"/api/v1/projects/{pid}/review.html")).status_code == 404


async def test_lessons_search_and_outcome_analytics(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active(admin, org)
    marker = f"教训-{pid[-6:]}"
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"review": review_body(
        outcome="lost", lessons=f"{marker}：价格谈判过晚", tags=["报价", f"t-{pid[-6:]}"])})
    assert r.status_code == 200, r.text

    async def found(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
        r = await client.get("/api/v1/reviews/lessons", params=params)
        assert r.status_code == 200, r.text
        return [x for x in r.json()["items"] if x["project_id"] == pid]

    async def owner_finds() -> list[dict[str, Any]] | None:
        return await found(org["rep"], q=marker) or None

    items = await eventually(owner_finds)
    assert items[0]["outcome"] == "lost" and items[0]["outcome_label"] == "丢单"
    assert await found(org["rep"], tag=f"t-{pid[-6:]}") and await found(admin, outcome="lost", q=marker)
    assert not await found(org["rep"], q=marker, outcome="won")
    tags = (await org["rep"].get("/api/v1/reviews/lessons", params={"q": marker})).json()["tags"]
    assert tags == {"报价": 1, f"t-{pid[-6:]}": 1}
    # A user who cannot see the project does not find its lessons.
    assert not await found(org["outsider"], q=marker)
    assert not await found(org["outsider"])
    r = await org["rep"].get("/api/v1/reviews/lessons", params={"outcome": "maybe"})
    assert r.status_code == 422 and r.json()["error"]["details"][0]["field"] == "outcome", r.text

    # Analytics: the owner's projects grouped by outcome; lessons counted by tag.
    r = await org["rep"].get("/api/v1/reports/analytics/outcomes")
    assert r.status_code == 200, r.text
    rows = {row["outcome"]: row for row in r.json()["rows"]}
    assert rows["丢单"]["projects"] == "1" and rows["丢单"]["budget"] == "120000.00", r.json()
    r = await org["rep"].get("/api/v1/reports/analytics/lessons")
    assert r.status_code == 200, r.text
    assert {"tag": f"t-{pid[-6:]}", "reviews": "1", "share": "100.0%"} in r.json()["rows"], r.json()
    assert (await org["outsider"].get("/api/v1/reports/analytics/outcomes")).json()["rows"] == []


async def test_a_repeated_close_records_the_review_it_carries(admin: httpx.AsyncClient, org: Org) -> None:
    pid = await active(admin, org)
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"comment": "验收完成"})
    assert r.status_code == 200, r.text
    assert (await org["rep"].get(f"/api/v1/projects/{pid}/review")).status_code == 404
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"review": review_body(outcome="won")})
    assert r.status_code == 200 and r.json()["status"] == "closed", r.text
    got = await org["rep"].get(f"/api/v1/projects/{pid}/review")
    assert got.status_code == 200 and got.json()["outcome"] == "won", got.text



def test_a_generated_delay_summary_names_reasons_by_label() -> None:
    """The reporting service writes reason codes into a generated summary; the edge shows labels,
    as it does for the delay reasons and late tasks. A written summary is left as it is."""
    from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb2
    from edge.routes.reviews import _labelled_summary

    labels = {"customer": "客户原因", "supplier": "供应商原因"}
    generated = reporting_pb2.Review(delay_summary="延期任务 3 个；原因：customer（2）、supplier（1）",
                                     delay_summary_generated=True)
    generated.delay_reasons.add(reason="customer", tasks=2)
    generated.delay_reasons.add(reason="supplier", tasks=1)
    assert _labelled_summary(generated, labels) == "延期任务 3 个；原因：客户原因（2）、供应商原因（1）"
    written = reporting_pb2.Review(delay_summary="customer（2）按客户要求顺延", delay_summary_generated=False)
    written.delay_reasons.add(reason="customer", tasks=2)
    assert _labelled_summary(written, labels) == "customer（2）按客户要求顺延"
