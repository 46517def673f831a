"""Closing reviews (复盘) under /api/v1: record / edit a closed project's review (owner, project
manager or admin), read it as JSON, as a one-page HTML report and as a PDF (the printing blocks of
the 审批单: branding, Chinese font, footer), and search lessons learned across the projects the
caller may see.

The review is a reporting fact (``project.reviewed``, logged and folded by the reporting service;
a rebuild reproduces it): people record outcome, reason, lessons, tags and optionally a delay
summary; reporting computes final cost (recorded costs) vs budget (the project's amount) and the
schedule (actual finish vs the tasks' saved baseline) from its read models when it is read."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import HTMLResponse

from baobei.core.errors import Conflict, Forbidden, NotFound
from baobei.printing import approval_form, blocks
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb2
from baobei.reporting_events import build
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb2
from edge import audit, mapping
from edge.client_address import client_ip
from edge.clients import Clients as EdgeClients
from edge.deps import Clients, CurrentUser
from edge.downloads import file_response
from edge.routes import area_router, bind_project
from edge.routes.printing import current_branding
from edge.routes.projects import visible_project_with_relations
from edge.routes.reports import visible_scope
from edge.schemas_reviews import OUTCOME_LABELS, LessonsOut, Outcome, ReviewIn, ReviewOut

router = area_router("reviews")
TITLE = "项目复盘报告"
# Who may record or edit a review: the owner, the project's manager (team PM) and admins.
EDITORS = ("owner", "pm", "admin")
STATUS_LABELS = {"closed": "已关闭", "active": "执行中", "cancelled": "已取消", "rejected": "已驳回"}
LATE_ROWS = 8  # late tasks printed on the one-page report (the worst first)
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "The review report as a PDF download (A4 portrait)",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
}}
HTML_RESPONSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "The review report as a printable HTML page", "content": {"text/html": {}}}}


def now() -> datetime:
    """The review clock (a seam: tests set it)."""
    return datetime.now(UTC)


def may_edit(user: Any, project: registry_pb2.Project, relations: list[str]) -> bool:
    return bool(user.is_admin or user.id == project.owner_id or set(relations) & set(EDITORS))


async def record_review(clients: EdgeClients, project_id: str, review: ReviewIn, *, actor_id: str,
                        event_id: str = "") -> None:
    """Report the review to reporting (the latest by event time counts)."""
    event = build(
        event_id=event_id or f"review:{project_id}:{uuid.uuid4().hex}", event_type="project.reviewed",
        project_id=project_id, at=now(), actor_id=actor_id,
        values={"outcome": review.outcome, "reason": review.reason, "lessons": review.lessons,
                "tags": review.tags, "delay_summary": review.delay_summary},
    )
    await clients.reporting.IngestEvent(reporting_pb2.IngestEventRequest(event=event))


async def _delay_labels(clients: EdgeClients) -> dict[str, str]:
    try:
        resp = await clients.tasks.ListDelayReasons(tasks_pb2.ListDelayReasonsRequest())
    except Exception:  # noqa: BLE001 - labels are a nicety: codes print as they are
        return {}
    return {r.code: r.label for r in resp.reasons}


def _ts(value: Any, message: Any, name: str) -> str | None:
    return mapping.ts(value) if message.HasField(name) else None


def _labelled_summary(r: reporting_pb2.Review, labels: dict[str, str]) -> str:
    """A generated summary names the reasons by their codes (`customer（1）`): show their labels, as
    the delay reasons and late tasks do. A written summary is kept as it is."""
    text = str(r.delay_summary)
    if r.delay_summary_generated:
        for d in r.delay_reasons:
            label = labels.get(d.reason)
            if label:
                text = text.replace(f"{d.reason}（{d.tasks}）", f"{label}（{d.tasks}）")
    return text


def review_out(r: reporting_pb2.Review, project: registry_pb2.Project, labels: dict[str, str]) -> dict[str, Any]:
    """The review as the caller may read it: budget and its ratios are left out when the project's
    amount is withheld from them."""
    amount_hidden = "amount" in set(project.hidden)
    has_budget = r.has_budget and not amount_hidden
    has_schedule = r.has_schedule
    return {
        "project_id": r.project_id,
        "code": project.code or r.code,
        "name": project.name or r.name,
        "status": r.status or "",
        "outcome": r.outcome,
        "outcome_label": OUTCOME_LABELS.get(r.outcome, r.outcome),
        "reason": r.reason,
        "lessons": r.lessons,
        "tags": list(r.tags),
        "delay_summary": _labelled_summary(r, labels),
        "delay_summary_generated": r.delay_summary_generated,
        "budget": r.budget if has_budget else None,
        "cost": r.cost,
        "cost_variance": r.cost_variance if has_budget else None,
        "cost_ratio": round(r.cost_ratio, 4) if has_budget and r.budget not in ("", "0.00") else None,
        "baseline_finish": r.baseline_finish or None,
        "actual_finish": r.actual_finish or None,
        "slip_days": r.slip_days if has_schedule else None,
        "delay_reasons": [{"reason": d.reason, "label": labels.get(d.reason, d.reason), "tasks": d.tasks}
                          for d in r.delay_reasons],
        "late_tasks": [{"task_id": t.task_id, "name": t.name, "baseline_finish": t.baseline_finish,
                        "finish": t.finish, "slip_days": t.slip_days,
                        "delay_reason": labels.get(t.delay_reason, t.delay_reason)} for t in r.late_tasks],
        "tasks": r.tasks,
        "tasks_done": r.tasks_done,
        "reviewed_at": mapping.ts(r.reviewed_at),
        "reviewed_by": r.reviewed_by,
        "closed_at": _ts(r.closed_at, r, "closed_at"),
    }


async def read_review(clients: EdgeClients, user: Any, project_id: str) -> dict[str, Any]:
    project, _ = await visible_project_with_relations(clients, user, project_id)
    try:
        resp, labels = await asyncio.gather(
            clients.reporting.GetReview(reporting_pb2.GetReviewRequest(project_id=project.id)), _delay_labels(clients))
    except NotFound:
        raise NotFound("该项目尚无复盘", "the project has no review yet") from None
    return review_out(resp.review, project, labels)


@router.get("/projects/{project_id}/review", response_model=ReviewOut)
async def get_review(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The project's closing review (anyone who may see the project; 404 when not visible or when
    no review was recorded): outcome and reason, lessons and tags, final cost vs budget (the
    project's amount; null when the amount is withheld from the caller), schedule (latest actual
    finish vs the latest baseline finish of the tasks, slip in calendar days), delay reasons (the
    tasks' stated reasons; without them a summary of the late tasks)."""
    bind_project(request, project_id)
    return await read_review(clients, user, project_id)


@router.put("/projects/{project_id}/review", response_model=ReviewOut)
async def put_review(
    project_id: str, body: ReviewIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Record or edit the review of a closed project (its owner, project manager or an admin; 403
    otherwise; 409 `illegal_state` before the project is closed). The latest save counts; audited
    (`review.saved`)."""
    bind_project(request, project_id)
    project, relations = await visible_project_with_relations(clients, user, project_id)
    if not may_edit(user, project, relations):
        raise Forbidden("只有项目负责人、项目经理或管理员可以填写复盘",
                        "only the owner, the project manager or an admin may record the review")
    if project.status != registry_pb2.PROJECT_STATUS_CLOSED:
        raise Conflict("项目关闭后才能填写复盘", "the review is recorded once the project is closed",
                       code="illegal_state")
    await record_review(clients, project.id, body, actor_id=user.id)
    await audit.record(clients, "review.saved", actor_id=user.id, target_type="project", target_id=project.id,
                       details={"outcome": body.outcome, "tags": body.tags}, ip=client_ip(request.scope))
    return await read_review(clients, user, project_id)


def _money(value: str | None) -> str:
    return approval_form.money(value) if value not in (None, "") else "—"


def report_lines(r: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """The report's sections as label/value pairs (shared by the HTML page and the PDF)."""
    ratio = f"{100 * r['cost_ratio']:.1f}%" if r["cost_ratio"] is not None else "—"
    slip = r["slip_days"]
    return {
        "项目信息": [
            ("项目编号", r["code"]), ("项目名称", r["name"]),
            ("状态", STATUS_LABELS.get(r["status"], r["status"])),
            ("关闭时间", blocks.local_time(datetime.fromisoformat(r["closed_at"])) if r["closed_at"] else "—"),
            ("复盘人", r["reviewed_by"]),
            ("复盘时间", blocks.local_time(datetime.fromisoformat(r["reviewed_at"]))),
        ],
        "结果": [("结果", r["outcome_label"]), ("原因", r["reason"] or "—")],
        "成本与预算": [
            ("预算", _money(r["budget"])), ("实际成本", _money(r["cost"])),
            ("偏差", _money(r["cost_variance"])), ("成本/预算", ratio),
        ],
        "进度与基线": [
            ("基线完成", r["baseline_finish"] or "—"), ("实际完成", r["actual_finish"] or "—"),
            ("偏差（天）", str(slip) if slip is not None else "—"),
            ("任务", f"{r['tasks_done']} / {r['tasks']} 已完成"),
        ],
    }


LATE_HEADERS = ("任务", "基线完成", "实际完成", "延期（天）", "延期原因")


def _late_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    return [(t["name"] or t["task_id"], t["baseline_finish"], t["finish"], str(t["slip_days"]), t["delay_reason"])
            for t in r["late_tasks"][:LATE_ROWS]]


def render_html(r: dict[str, Any], branding: blocks.Branding) -> str:
    def kv(pairs: list[tuple[str, str]]) -> str:
        cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in pairs)
        return f"<table class='kv'>{cells}</table>"

    parts = [f"<header><div class='company'>{escape(branding.company_name or blocks.DEFAULT_COMPANY)}</div>"
             f"<h1>{TITLE}</h1><div class='sub'>{escape(r['code'])}　{escape(r['name'])}</div></header>"]
    for title, pairs in report_lines(r).items():
        parts.append(f"<section><h2>{escape(title)}</h2>{kv(pairs)}</section>")
    late = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in _late_rows(r))
    head = "".join(f"<th>{escape(h)}</th>" for h in LATE_HEADERS)
    parts.append(f"<section><h2>延期原因</h2><p>{escape(r['delay_summary'])}</p>"
                 + (f"<table class='rows'><tr>{head}</tr>{late}</table>" if late else "") + "</section>")
    tags = "".join(f"<span class='tag'>{escape(t)}</span>" for t in r["tags"])
    lessons = escape(r["lessons"] or "—").replace("\n", "<br>")
    parts.append(f"<section><h2>经验教训</h2><p>{lessons}</p><p>{tags}</p></section>")
    style = (
        "body{font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#1f2329;"
        "max-width:800px;margin:24px auto;padding:0 16px}header{border-bottom:2px solid #1f2329;padding-bottom:8px}"
        "h1{font-size:22px;margin:4px 0}h2{font-size:15px;margin:18px 0 6px}.company{font-size:15px}"
        ".sub{color:#646a73;font-size:12px}table{border-collapse:collapse;width:100%;font-size:13px}"
        "th,td{border:1px solid #c9cdd4;padding:4px 8px;text-align:left;vertical-align:top}"
        ".kv th{background:#f2f3f5;width:110px;color:#646a73;font-weight:normal}"
        ".rows th{background:#f2f3f5}.tag{display:inline-block;border:1px solid #c9cdd4;border-radius:3px;"
        "padding:0 6px;margin-right:6px;font-size:12px}@media print{body{margin:0}}"
    )
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{TITLE} {escape(r['code'])}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")


def render_pdf(r: dict[str, Any], *, branding: blocks.Branding, printed: blocks.Printed,
               compress: bool = True) -> bytes:
    st = blocks.styles()
    out: list[Any] = [blocks.header(branding, TITLE, f"{r['code']}　{r['name']}".strip()), blocks.spacer()]
    for title, pairs in report_lines(r).items():
        out += [blocks.section(title), blocks.key_values(pairs)]
    out += [blocks.section("延期原因"), blocks.text(r["delay_summary"], st.body)]
    rows = _late_rows(r)
    if rows:
        out += [blocks.spacer(2), blocks.record_table(LATE_HEADERS, rows, (0.34, 0.15, 0.15, 0.12, 0.24))]
    out += [blocks.section("经验教训"), blocks.text(r["lessons"] or "—", st.body)]
    if r["tags"]:
        out.append(blocks.text("标签：" + "、".join(r["tags"]), st.label))
    return blocks.render(out, title=f"{TITLE} {r['code']}".strip(), printed=printed,
                         author=branding.company_name, compress=compress)


@router.get("/projects/{project_id}/review.html", response_class=HTMLResponse, responses=HTML_RESPONSE)
async def review_html(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> HTMLResponse:
    """The review as a one-page printable HTML report (who may read the review; 404 otherwise)."""
    bind_project(request, project_id)
    r, branding = await asyncio.gather(read_review(clients, user, project_id), current_branding(clients))
    return HTMLResponse(render_html(r, branding), headers={"Cache-Control": "private, no-store"})


@router.get("/projects/{project_id}/review.pdf", response_class=Response, responses=PDF_RESPONSE)
async def review_pdf(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> Response:
    """The review as a one-page A4 PDF with the branding (logo, company name) and the print footer;
    downloaded as `<code>-复盘报告.pdf`."""
    bind_project(request, project_id)
    r, branding = await asyncio.gather(read_review(clients, user, project_id), current_branding(clients))
    printed = blocks.Printed(at=now(), by=user.name or user.id)
    pdf = await asyncio.to_thread(render_pdf, r, branding=branding, printed=printed)
    return file_response(pdf, filename=f"{r['code'] or project_id}-复盘报告.pdf", content_type="application/pdf")


@router.get("/reviews/lessons", response_model=LessonsOut)
async def search_lessons(
    user: CurrentUser,
    clients: Clients,
    q: Annotated[str, Query(max_length=200, description="关键词：经验教训、原因、标签、项目编号或名称")] = "",
    tag: Annotated[str, Query(max_length=40, description="标签")] = "",
    outcome: Annotated[Outcome | None, Query(description="won | delivered | lost | cancelled")] = None,
    business_line: Annotated[str, Query(max_length=100, description="业务线")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    """Lessons learned across the reviews of the projects the caller may see, newest first, with the
    tag counts over all matches (a business line withheld from the caller matches nothing)."""
    ids, withheld = await visible_scope(clients, user)
    resp = await clients.reporting.SearchLessons(reporting_pb2.SearchLessonsRequest(
        all=ids is None, project_ids=ids or [], q=q, tag=tag.strip(), outcome=outcome or "",
        business_line=business_line.strip(), limit=limit, withheld=withheld))
    return {
        "items": [{
            "project_id": x.project_id, "code": x.code, "name": x.name, "business_line": x.business_line,
            "outcome": x.outcome, "outcome_label": OUTCOME_LABELS.get(x.outcome, x.outcome), "reason": x.reason,
            "lessons": x.lessons, "tags": list(x.tags), "reviewed_at": mapping.ts(x.reviewed_at),
            "reviewed_by": x.reviewed_by,
        } for x in resp.items],
        "tags": dict(sorted(resp.tags.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
