"""Registration files: attachment upload (content-addressed), Excel/CSV import (dry run, all or
nothing or skip bad rows, idempotent per row key) and export of what the caller may see (.xlsx or
.csv, with only the form fields the caller may read — the registry filters every row)."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import Response

from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.core.spreadsheet import safe_row
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import audit, lifecycle, mapping
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.downloads import DOWNLOAD_RESPONSES, file_response
from edge.idempotency import IdempotentRoute
from edge.routes.projects import ProjectQuery, viewer_of
from edge.schemas import ERROR_RESPONSES, AttachmentOut, ImportOut

log = structlog.get_logger(__name__)
router = APIRouter(tags=["registration files"], route_class=IdempotentRoute)
MAX_UPLOAD = 20 * 1024 * 1024
MAX_IMPORT = 50 * 1024 * 1024
MAX_EXPORT_ROWS = 100_000
# Workflows started at once after an import (each is a GetProject and a StartWorkflow).
IMPORT_START_CONCURRENCY = 16
CORE_HEADERS = [
    ("code", "项目编号"), ("name", "项目名称"), ("status", "状态"), ("customer.name", "客户名称"),
    ("customer.uscc", "统一社会信用代码"), ("customer.contact", "联系人"), ("customer.phone", "客户电话"),
    ("amount", "金额"), ("region", "区域"), ("business_line", "业务线"), ("start_date", "开始日期"),
    ("end_date", "结束日期"), ("owner_id", "负责人"), ("department_id", "部门"), ("form_key", "表单"),
    ("created_at", "创建时间"), ("version", "版本"),
]


async def _read(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed([FieldViolation("file", f"文件超过 {limit // 1024 // 1024} MB",
                                               f"the file exceeds {limit // 1024 // 1024} MB")])
    return data


@router.post("/attachments", status_code=201, response_model=AttachmentOut)
async def upload_attachment(
    user: CurrentUser, clients: Clients, file: Annotated[UploadFile, File(description="The file (≤ 20 MB)")]
) -> dict[str, Any]:
    """Upload a file for an `attachment` field; put the returned `id` in the field's value."""
    data = await _read(file, MAX_UPLOAD)
    resp = await clients.registry.UploadAttachment(
        registry_pb2.UploadAttachmentRequest(
            request_id=uuid.uuid4().hex, filename=file.filename or "file",
            content_type=file.content_type or "application/octet-stream", data=data, uploader_id=user.id,
        )
    )
    a = resp.attachment
    return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}


@router.get("/attachments/{attachment_id}/content", response_class=Response, responses=DOWNLOAD_RESPONSES)
async def download_attachment(attachment_id: str, user: CurrentUser, clients: Clients) -> Response:
    """Download an attachment (id `sha256:…`): for its uploader, an admin, whoever may see a
    project holding it in a field they may read, or whoever may see a project whose approval
    comments or decisions carry it (the registry decides; 404 otherwise)."""
    resp = await clients.registry.GetAttachment(
        registry_pb2.GetAttachmentRequest(
            attachment_id=attachment_id, viewer=await viewer_of(clients, user), with_content=True
        )
    )
    a = resp.attachment
    return file_response(resp.data, filename=a.filename, content_type=a.content_type)


@router.post("/imports/projects", response_model=ImportOut)
async def import_projects(
    admin: AdminUser,
    clients: Clients,
    file: Annotated[UploadFile, File(description=".xlsx or .csv; header row = fields (keys or Chinese labels)")],
    form_key: Annotated[str, Form(description="The form the rows are filed with")],
    dry_run: Annotated[bool, Form(description="Only check: report every bad row and cell")] = False,
    skip_invalid: Annotated[bool, Form(description="Import the good rows, report the bad ones")] = False,
) -> dict[str, Any]:
    """Import existing registrations (admin). Default all-or-nothing: any bad row → 422 listing
    every bad cell as `rows[<row>].<field>`. Re-importing a row key (`行键` column, else the row's
    content) does nothing (`existing`). Cells are read leniently (`1,200,000.00`, `35万`,
    `+86 138…`, `2026年12月1日`, people by name) and every such reading is listed in `changes`.
    A row with a `项目编号` (an exported file) edits that draft/returned project where it differs
    (`updated`, each change listed), else counts as `unchanged`."""
    data = await _read(file, MAX_IMPORT)
    resp = await clients.registry.ImportProjects(
        registry_pb2.ImportProjectsRequest(
            request_id=uuid.uuid4().hex, form_key=form_key, actor_id=admin.id, actor_is_admin=True, data=data,
            filename=file.filename or "import.xlsx", dry_run=dry_run, skip_invalid=skip_invalid,
        )
    )
    if not resp.dry_run:
        await start_lifecycles(clients, admin.viewer(), list(resp.project_ids))
    return import_out(resp)


async def start_lifecycles(clients: EdgeClients, viewer: registry_pb2.Viewer, project_ids: list[str]) -> None:
    """Start each imported project's ``ProjectLifecycle`` workflow, as ``POST /projects`` does for a
    created one: the workflow records ``project.created`` (with the imported status), so reporting
    and the portfolio see imported rows without a rebuild. Starting is idempotent (USE_EXISTING);
    a started workflow never submits on its own, so an imported active project is not submitted again."""
    gate = asyncio.Semaphore(IMPORT_START_CONCURRENCY)

    async def start(project_id: str) -> None:
        async with gate:
            project = (await clients.registry.GetProject(
                registry_pb2.GetProjectRequest(project_id=project_id, viewer=viewer))).project
            await lifecycle.ensure_started(clients, project.id, project.owner_id,
                                           code=project.code, name=project.name)

    results = await asyncio.gather(*(start(pid) for pid in project_ids), return_exceptions=True)
    failed = [pid for pid, r in zip(project_ids, results, strict=True) if isinstance(r, BaseException)]
    if failed:
        # The rows are stored (the import stands); their workflow starts on the next submit, and
        # `baobei rebuild-read-models` brings them into reporting.
        log.error("import.lifecycle_start_failed", failed=len(failed), project_ids=failed[:20],
                  error=str(next(r for r in results if isinstance(r, BaseException))))


def import_out(resp: registry_pb2.ImportProjectsResponse) -> dict[str, Any]:
    return {
        "rows": resp.rows, "created": resp.created, "existing": resp.existing, "invalid": resp.invalid,
        "dry_run": resp.dry_run, "project_ids": list(resp.project_ids),
        "errors": [{"row": e.row, "column": e.column, "field": e.field, "message": e.message} for e in resp.errors],
        "updated": resp.updated, "unchanged": resp.unchanged, "changes_total": resp.changes_total,
        "changes": [{"row": c.row, "column": c.column, "field": c.field, "before": c.before, "after": c.after,
                     "message": c.message, "kind": c.kind} for c in resp.changes],
    }


async def export_rows(
    clients: EdgeClients, viewer: registry_pb2.Viewer, query: ProjectQuery
) -> tuple[list[str], list[list[Any]]]:
    """Header labels and rows of every project the viewer may see (filters applied). Field columns
    are those present in some visible row: a field the viewer may not read never appears."""
    projects: list[registry_pb2.Project] = []
    cursor = ""
    while len(projects) < MAX_EXPORT_ROWS:
        resp = await clients.registry.ListProjects(query.request(viewer, limit=100, cursor=cursor))
        projects.extend(resp.items)
        cursor = resp.next_cursor
        if not cursor:
            break
    forms: dict[tuple[str, int], registry_pb2.Form] = {}
    field_keys: list[str] = []
    labels: dict[str, str] = {}
    rows_fields = []
    for p in projects:
        values = mapping.struct_to_dict(p.fields)
        rows_fields.append(values)
        if (p.form_key, p.form_version) not in forms:
            forms[(p.form_key, p.form_version)] = (await clients.registry.GetForm(
                registry_pb2.GetFormRequest(key=p.form_key, version=p.form_version))).form
        for f in forms[(p.form_key, p.form_version)].fields:
            labels.setdefault(f.key, f.label or f.key)
        for key in values:
            if key not in field_keys:
                field_keys.append(key)
    header = [label for _, label in CORE_HEADERS] + [labels.get(k, k) for k in field_keys]
    rows = []
    for p, values in zip(projects, rows_fields, strict=True):
        summary = mapping.project_summary(p)
        flat = {**summary, "start_date": p.start_date, "end_date": p.end_date, "version": p.version}
        for k in ("name", "uscc", "contact", "phone"):
            flat[f"customer.{k}"] = summary["customer"].get(k) or ""
        row = [flat.get(key) or "" for key, _ in CORE_HEADERS]
        row += ["、".join(map(str, v)) if isinstance(v, list) else v for v in (values.get(k, "") for k in field_keys)]
        rows.append(row)
    return header, rows


def render_xlsx(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("项目报备")
    ws.append(safe_row(header))
    for row in rows:
        ws.append(safe_row(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(safe_row(header))
    writer.writerows(safe_row(r) for r in rows)
    return ("\ufeff" + buf.getvalue()).encode()  # BOM: Excel opens UTF-8 CSV correctly


@router.get("/exports/projects", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument"
                                                                  ".spreadsheetml.sheet": {}}}})
async def export_projects(
    user: CurrentUser,
    clients: Clients,
    query: Annotated[ProjectQuery, Depends()],
    format: Annotated[str, Query(pattern="^(xlsx|csv)$", description="xlsx (default) or csv")] = "xlsx",
) -> Response:
    """The projects the caller may see (same filters as the list), with only the fields they may read."""
    header, rows = await export_rows(clients, await viewer_of(clients, user), query)
    filters = {k: v for k, v in {"status": query.status, "q": query.q, **query.filters}.items() if v}
    await audit.record(clients, "export.projects", actor_id=user.id, target_type="projects",
                       details={"format": format, "rows": len(rows), "filters": filters})
    if format == "csv":
        body, media = render_csv(header, rows), "text/csv; charset=utf-8"
    else:
        body, media = render_xlsx(header, rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="projects.{format}"'})


def registry_router() -> APIRouter:
    """Mounted under /api/v1 by the app."""
    outer = APIRouter(prefix="/api/v1", route_class=IdempotentRoute, responses=ERROR_RESPONSES)
    outer.include_router(router)
    return outer
