"""Issue 12 item 14 (part): security headers on every response — JSON, errors (401/404/413/422),
downloads, SVG charts, HTML — and SVG charts without any script (pygal's inline config script and
its tooltip script from a public CDN are removed; the Gantt chart has none and escapes names)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx

from edge.routes.reports_render import counts_chart
from services.tasks import domain, gantt, planning
from tests.edge.conftest import Org, Stack

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def assert_secured(r: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert r.headers.get(name) == value, (r.request.url, name, r.headers.get(name))
    csp = r.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (r.request.url, csp)
    assert "script-src" not in csp or "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


async def test_every_kind_of_response_carries_the_headers(stack: Stack, org: Org) -> None:
    rep = org["rep"]
    async with stack.client(token=None) as anon:
        for r in (
            await anon.get("/healthz"),
            await anon.get("/api/v1/me/todos"),  # 401
            await anon.get("/api/v1/nowhere"),  # 404 (401: no credential)
            await anon.get("/nowhere"),  # a web app route: index.html (or the not-built page)
            await anon.get("/openapi.json"),
            await anon.get("/a/not-a-token"),  # action link page (its own stricter CSP)
        ):
            assert_secured(r)
    for r in (
        await rep.get("/api/v1/me/todos"),
        await rep.get("/api/v1/projects/unknown"),  # 404
        await rep.post("/api/v1/projects", json={"form_key": 1}),  # 422
        await rep.post("/api/v1/projects", content=b" " * (2 << 20), headers={"content-type": "application/json"}),
        await rep.get("/api/v1/exports/projects", params={"format": "csv"}),
        await rep.get("/api/v1/reports/portfolio", params={"format": "svg"}),
    ):
        assert_secured(r)
    svg = await rep.get("/api/v1/reports/portfolio", params={"format": "svg"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "script-src" not in svg.headers["content-security-policy"]  # default-src 'none': no script runs


async def test_report_charts_carry_no_script(org: Org) -> None:
    rep = org["rep"]
    analytics = "/api/v1/reports/analytics/"
    charts = [
        await rep.get("/api/v1/reports/portfolio", params={"format": "svg"}),
        await rep.get("/api/v1/reports/portfolio", params={"format": "svg", "chart": "health"}),
        await rep.get(analytics + "conversion", params={"format": "svg", "chart": "pie", "group_by": "region"}),
        await rep.get(analytics + "cycle_times", params={"format": "svg", "chart": "line", "group_by": "period"}),
        await rep.get(analytics + "approvers", params={"format": "svg", "chart": "bar"}),
    ]
    for r in charts:
        assert r.status_code == 200, r.text
        assert r.text.lstrip().startswith("<?xml") and "<svg" in r.text
        assert "<script" not in r.text.lower() and "kozea.github.io" not in r.text


def test_chart_renderers_strip_scripts_and_escape_labels() -> None:
    for kind in ("bar", "line", "pie"):
        svg = counts_chart("<script>alert(1)</script>", {"<script>x</script>": 1}, kind=kind, names={}).decode()
        assert "<script" not in svg.lower(), kind
        assert "&lt;script&gt;" in svg
    now = datetime(2026, 11, 25, 9, tzinfo=UTC)
    task = domain.Task(
        id="a", project_id="p", name="<script>alert(1)</script>", assignee_id="", start=date(2026, 12, 1), due=None,
        duration_days=2, milestone=False, status=domain.TaskStatus.TODO, progress=0, created_at=now,
    )
    svg = gantt.render(planning.build([task], today=date(2026, 12, 3)), title="<script>t</script>",
                       today=date(2026, 12, 3))
    assert "<script" not in svg.lower() and "&lt;script&gt;" in svg
