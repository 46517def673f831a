"""Registration files: attachment upload (content-addressed), Excel/CSV import (dry run, all or
nothing or skip bad rows, idempotent per row key), the import template of a form, and export of
what the caller may see (.xlsx or .csv, with only the form fields the caller may read — the
registry filters every row). Sheets are rendered by ``baobei.sheets``."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterable
from datetime import UTC
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse, Response

from baobei.core.errors import FieldViolation, NotFound, ValidationFailed
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.sheets import projects as sheet_projects
from baobei.sheets import render, template
from baobei.sheets.render import XLSX_MEDIA_TYPE, csv_media_type
from edge import audit, lifecycle, reporting_feed, spreadsheets
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.downloads import DOWNLOAD_RESPONSES, content_disposition, file_response
from edge.idempotency import IdempotentRoute
from edge.openapi_examples import ADMIN_REQUIRED, ErrorExample, error_examples
from edge.routes.projects import ProjectQuery, viewer_of
from edge.schemas import ERROR_RESPONSES, AttachmentOut, ImportJobOut, ImportOut

log = structlog.get_logger(__name__)
router = APIRouter(tags=["registration files"], route_class=IdempotentRoute)
MAX_UPLOAD = 20 * 1024 * 1024
MAX_IMPORT = 50 * 1024 * 1024
TEMPLATE_FORM_NOT_FOUND = ErrorExample(404, "form_not_found", "表单 standard 不存在",
                                       (("form_key", "表单 standard 不存在"),))
TEMPLATE_FORM_MISSING = ErrorExample(422, "validation_failed", "输入校验失败", (("form_key", "必填"),))
# Workflows started at once after an import (each is a GetProject and a StartWorkflow).
IMPORT_START_CONCURRENCY = 16
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


@router.post("/imports/projects", response_model=ImportOut,
             responses={202: {"model": ImportJobOut, "description": "`async=true`: the import job, queued"}})
async def import_projects(
    admin: AdminUser,
    clients: Clients,
    file: Annotated[UploadFile, File(description=".xlsx or .csv; header row = fields (keys or Chinese labels)")],
    form_key: Annotated[str, Form(description="The form the rows are filed with")],
    dry_run: Annotated[bool, Form(description="Only check: report every bad row and cell")] = False,
    skip_invalid: Annotated[bool, Form(description="Import the good rows, report the bad ones")] = False,
    background: Annotated[bool, Form(alias="async", description=(
        "Run as a background job: 202 with the job at once; follow it with GET /api/v1/imports/{id}"))] = False,
) -> Any:
    """Import existing registrations (admin). Default all-or-nothing: any bad row → 422 listing
    every bad cell as `rows[<row>].<field>`. Re-importing a row key (`行键` column, else the row's
    content) does nothing (`existing`). Cells are read leniently (`1,200,000.00`, `35万`,
    `+86 138…`, `2026年12月1日`, people by name) and every such reading is listed in `changes`.
    A row with a `项目编号` (an exported file) edits that draft/returned project where it differs
    (`updated`, each change listed), else counts as `unchanged`. With `async=true` (large sheets)
    the import runs as a job: 202 with `{id, status: "queued", …}` and a `Location`; the same rules
    apply (a bad row fails the job with its `errors`, nothing stored), and the imported projects'
    lifecycles are started when it is done."""
    data = await _read(file, MAX_IMPORT)
    if background:
        job = (await clients.registry.StartImportJob(
            registry_pb2.StartImportJobRequest(
                request_id=uuid.uuid4().hex, form_key=form_key, actor_id=admin.id, actor_is_admin=True, data=data,
                filename=file.filename or "import.xlsx", dry_run=dry_run, skip_invalid=skip_invalid,
            )
        )).job
        follow_job(clients, admin.viewer(), job.id)
        return JSONResponse(job_out(job), status_code=202, headers={"Location": f"/api/v1/imports/{job.id}"})
    resp = await clients.registry.ImportProjects(
        registry_pb2.ImportProjectsRequest(
            request_id=uuid.uuid4().hex, form_key=form_key, actor_id=admin.id, actor_is_admin=True, data=data,
            filename=file.filename or "import.xlsx", dry_run=dry_run, skip_invalid=skip_invalid,
        )
    )
    if not resp.dry_run:
        await start_lifecycles(clients, admin.viewer(), list(resp.project_ids))
        await reporting_feed.projects_edited(clients, admin.viewer(), list(resp.updated_ids), actor_id=admin.id)
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


@router.get("/imports/{import_id}", response_model=ImportJobOut)
async def get_import(import_id: str, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """A background import's progress and outcome: its importer or an admin (404 for anyone
    else). `rows_checked` then `rows_done` count up to `rows_total`; `errors` are those found so
    far; `project_ids` when `done`."""
    viewer = user.viewer()
    job = (await clients.registry.GetImportJob(registry_pb2.GetImportJobRequest(job_id=import_id,
                                                                               viewer=viewer))).job
    if job.status in ("done", "failed") and job.project_ids and not job.lifecycles_started:
        follow_job(clients, viewer, job.id)  # e.g. the edge that queued it restarted meanwhile
    return job_out(job)


# Jobs this process is following (waiting for, then starting their projects' lifecycles).
_FOLLOWING: dict[str, asyncio.Task[None]] = {}
JOB_POLL_SECONDS = 1.0


def follow_job(clients: EdgeClients, viewer: registry_pb2.Viewer, job_id: str) -> None:
    """Wait in the background for the job to finish, then start its projects' lifecycles once
    (as a synchronous import does before answering) and record that on the job."""
    if job_id in _FOLLOWING:
        return

    async def follow() -> None:
        try:
            while True:
                job = (await clients.registry.GetImportJob(
                    registry_pb2.GetImportJobRequest(job_id=job_id, viewer=viewer))).job
                if job.status in ("done", "failed"):
                    break
                await asyncio.sleep(JOB_POLL_SECONDS)
            # A job that failed midway keeps the chunks it stored: their projects start too.
            if (job.project_ids or job.updated_ids) and not job.lifecycles_started:
                await start_lifecycles(clients, viewer, list(job.project_ids))
                await reporting_feed.projects_edited(clients, viewer, list(job.updated_ids), actor_id=job.actor_id)
                await clients.registry.MarkImportJobLifecycles(
                    registry_pb2.MarkImportJobLifecyclesRequest(job_id=job_id, viewer=viewer))
        except Exception as err:  # noqa: BLE001 - retried by the next GET of the job
            log.error("import.follow_failed", job_id=job_id, error=str(err))
        finally:
            _FOLLOWING.pop(job_id, None)

    _FOLLOWING[job_id] = asyncio.get_running_loop().create_task(follow())


def job_out(job: registry_pb2.ImportJob) -> dict[str, Any]:
    return {
        "id": job.id, "status": job.status, "form_key": job.form_key, "dry_run": job.dry_run,
        "skip_invalid": job.skip_invalid, "rows_total": job.rows_total, "rows_checked": job.rows_checked,
        "rows_done": job.rows_done, "created": job.created, "existing": job.existing, "invalid": job.invalid,
        "errors": [{"row": e.row, "column": e.column, "field": e.field, "message": e.message} for e in job.errors],
        "project_ids": list(job.project_ids), "reason": job.reason, "lifecycles_started": job.lifecycles_started,
        "created_at": job.created_at.ToDatetime(tzinfo=UTC).isoformat(),
        "updated_at": job.updated_at.ToDatetime(tzinfo=UTC).isoformat(),
        "finished_at": job.finished_at.ToDatetime(tzinfo=UTC).isoformat() if job.HasField("finished_at") else None,
        "updated": job.updated, "unchanged": job.unchanged, "changes_total": job.changes_total,
        "changes": _changes_out(job.changes),
    }


def import_out(resp: registry_pb2.ImportProjectsResponse) -> dict[str, Any]:
    return {
        "rows": resp.rows, "created": resp.created, "existing": resp.existing, "invalid": resp.invalid,
        "dry_run": resp.dry_run, "project_ids": list(resp.project_ids),
        "errors": [{"row": e.row, "column": e.column, "field": e.field, "message": e.message} for e in resp.errors],
        "updated": resp.updated, "unchanged": resp.unchanged, "changes_total": resp.changes_total,
        "changes": _changes_out(resp.changes),
    }


def _changes_out(changes: Iterable[registry_pb2.ImportRowChange]) -> list[dict[str, Any]]:
    return [{"row": c.row, "column": c.column, "field": c.field, "before": c.before, "after": c.after,
             "message": c.message, "kind": c.kind} for c in changes]


def _media(format: str, encoding: str) -> str:
    return csv_media_type(encoding) if format == "csv" else XLSX_MEDIA_TYPE


EXPORT_RESPONSES: dict[int | str, Any] = {200: {
    "description": "The file: .xlsx (a sheet per form and a 说明/Notes sheet) or .csv",
    "content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}},
}}
Format = Annotated[str, Query(pattern="^(xlsx|csv)$", description="xlsx (default) or csv")]
Encoding = Annotated[str, Query(pattern="^(utf-8|gbk)$", description=(
    "CSV only: utf-8 (default, with a BOM) or gbk (Excel on Chinese Windows; characters GBK cannot "
    "hold become ?)"))]


@router.get("/exports/projects", response_class=Response, responses=EXPORT_RESPONSES)
async def export_projects(
    user: CurrentUser,
    clients: Clients,
    query: Annotated[ProjectQuery, Depends()],
    format: Format = "xlsx",
    encoding: Encoding = "utf-8",
) -> Response:
    """The projects the caller may see (same filters as the list), with only the fields they may
    read. XLSX: one sheet per form (named by the form's title) and a sheet `说明` (`Notes`) with
    the filters, who exported and when; amounts are numbers (`#,##0.00`), dates and times are
    Excel dates in Asia/Shanghai, statuses, yes/no, people and departments are labels — Chinese,
    or English with `Accept-Language: en`; header row frozen, auto filter. CSV: one table, UTF-8
    with a BOM or `encoding=gbk`. The file imports back (read-only columns are ignored)."""
    viewer = await viewer_of(clients, user)
    projects = await spreadsheets.visible_projects(clients, viewer, query)
    forms, directory = await asyncio.gather(
        spreadsheets.form_versions(clients, projects), spreadsheets.export_directory(clients, user))
    filters = {k: v for k, v in {"status": query.status, "q": query.q, **query.filters}.items() if v}
    await audit.record(clients, "export.projects", actor_id=user.id, target_type="projects",
                       details={"format": format, "rows": len(projects), "filters": filters,
                                **({"encoding": encoding} if format == "csv" else {})})
    locale = clients.locale
    if format == "csv":
        table = sheet_projects.flat_table(projects, forms, directory, locale)
        body = render.csv_bytes([c.header for c in table.columns], table.rows, encoding)
    else:
        tables = sheet_projects.project_tables(projects, forms, directory, locale)
        info = sheet_projects.ExportInfo(exported_at=dt.datetime.now(dt.UTC),
                                         exported_by=f"{user.name}（{user.id}）" if user.name else user.id,
                                         filters=filters)
        body = render.xlsx(tables, sheet_projects.notes_table(info, tables, locale))
    return Response(body, media_type=_media(format, encoding),
                    headers={"Content-Disposition": f'attachment; filename="projects.{format}"'})


@router.get("/imports/projects/template", response_class=Response, responses={
    200: {"description": "The template: .xlsx (drop-downs, hints, an example sheet) or the CSV header row",
          "content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}},
    **error_examples(ADMIN_REQUIRED, TEMPLATE_FORM_NOT_FOUND, TEMPLATE_FORM_MISSING),
})
async def import_template(
    admin: AdminUser,
    clients: Clients,
    form_key: Annotated[str, Query(description="The form the rows will be filed with", min_length=1,
                                   examples=["standard"])],
    format: Format = "xlsx",
    encoding: Encoding = "utf-8",
) -> Response:
    """The import template of a form (admin, like the import): its columns in import order —
    `行键`, the core columns, then the form's fields by label — required ones marked `*` (red,
    with a comment), drop-downs for options, status, people and departments (lists on a hidden
    sheet), an input hint per column (comment and cell prompt: amount and date formats, ranges),
    a sheet `示例` with an example row and a sheet `填写说明`. `format=csv`: the header row only,
    UTF-8 with a BOM or `encoding=gbk`. Headers are Chinese, English with `Accept-Language: en`.
    An unknown form is 404 `form_not_found` naming `form_key`."""
    try:
        form = (await clients.registry.GetForm(registry_pb2.GetFormRequest(key=form_key))).form
    except NotFound as err:
        err.violations = [FieldViolation("form_key", err.zh, err.en)]
        raise
    locale = clients.locale
    if format == "csv":
        body = template.template_csv(form, locale, encoding)
    else:
        users, depts = await spreadsheets.template_choices(clients, admin)
        body = template.template_xlsx(form, locale, users, depts)
    return Response(body, media_type=_media(format, encoding), headers={
        "Content-Disposition": content_disposition(f"import-template-{form.key}.{format}")})


def registry_router() -> APIRouter:
    """Mounted under /api/v1 by the app."""
    outer = APIRouter(prefix="/api/v1", route_class=IdempotentRoute, responses=ERROR_RESPONSES)
    outer.include_router(router)
    return outer
