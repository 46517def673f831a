"""The inbound finance cost feed: a finance system (金蝶 / 用友 style) posts the actual costs it
booked, as a JSON batch of vouchers or an uploaded CSV / XLSX sheet. Each voucher is mapped to a
project by its code (the project must be active) and booked once per (source, voucher_id) in the
tasks service's actual costs (kind `finance`, reported like any cost, counted against the budget).
The answer is per voucher: applied, duplicate (booked before with the same content: nothing
changed) or error (with field and message; the same voucher id with other content is the error
`voucher_conflict`). Callers: users with the `integrator` role or admins; when
`BAOBEI_FINANCE_SIGNING_SECRET` is set, also a Standard Webhooks signature over the raw body
(the CRM webhook's verification). See docs/integrations.md."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import structlog
from fastapi import Depends, File, Form, Request, UploadFile

from baobei.core.errors import FieldViolation, ValidationFailed
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.sheets.reading import UnknownEncoding, raw_rows
from baobei.tasks.v1 import tasks_service_pb2 as tasks_pb2
from edge import audit, finance_costs, mapping
from edge.auth import Principal
from edge.clients import Clients as EdgeClients
from edge.deps import Clients
from edge.finance_costs import HEADER_OF, VoucherRow
from edge.routes import area_router
from edge.routes.integrations import Integrator, verify_signature
from edge.routes.tasks import notify_execution
from edge.schemas_finance import CostFeedOut, VoucherBatchIn

log = structlog.get_logger(__name__)
router = area_router("integrations")

MAX_FILE = 20 * 1024 * 1024
# Vouchers per ImportVouchers call, and codes per registry lookup (its page size).
CHUNK, CODES_PER_LOOKUP = 500, 100


async def finance_caller(request: Request, user: Integrator, clients: Clients) -> Principal:
    secret = clients.settings.finance_signing_secret
    if secret:
        verify_signature(secret, await request.body(), dict(request.headers))
    return user


FinanceCaller = Annotated[Principal, Depends(finance_caller)]


def _error(field: str, code: str, message: str, *, sheet: bool) -> dict[str, Any]:
    return {"field": field, "column": HEADER_OF.get(field) if sheet else None, "code": code, "message": message}


async def _projects(clients: EdgeClients, codes: Sequence[str]) -> dict[str, registry_pb2.Project]:
    found: dict[str, registry_pb2.Project] = {}
    wanted = sorted(set(codes))
    for i in range(0, len(wanted), CODES_PER_LOOKUP):
        chunk = wanted[i:i + CODES_PER_LOOKUP]
        resp = await clients.registry.ListProjects(registry_pb2.ListProjectsRequest(codes=chunk, limit=len(chunk)))
        found.update({p.code: p for p in resp.items})
    return found


async def _book(clients: EdgeClients, caller: Principal, source: str, rows: list[VoucherRow], *,
                sheet: bool) -> dict[str, Any]:
    en = clients.locale == "en"
    results: dict[int, dict[str, Any]] = {}
    projects = await _projects(clients, [r.project_code for r in rows if r.project_code and not r.problems])
    sendable: list[tuple[int, VoucherRow, registry_pb2.Project]] = []
    for i, r in enumerate(rows):
        errors = [_error(p.field, "invalid_cell", p.text(clients.locale), sheet=sheet) for p in r.problems]
        project = projects.get(r.project_code)
        if not errors and not r.project_code:
            errors.append(_error("project_code", "invalid_voucher",
                                 "project_code is required" if en else "项目编号为必填项", sheet=sheet))
        elif not errors and project is None:
            errors.append(_error("project_code", "unknown_project", f"no project {r.project_code}" if en
                                 else f"项目编号 {r.project_code} 不存在", sheet=sheet))
        elif not errors and project is not None and mapping.status_name(project.status) != "active":
            status = mapping.status_name(project.status)
            errors.append(_error("project_code", "project_not_active", f"project {r.project_code} is {status}"
                                 if en else f"项目 {r.project_code} 当前状态（{status}）不能记录成本", sheet=sheet))
        if errors or project is None:
            results[i] = {"row": r.row, "voucher_id": r.voucher_id, "status": "error",
                          "project_id": project.id if project else None, "cost_id": None, "errors": errors}
        else:
            sendable.append((i, r, project))
    booked: set[str] = set()
    for start in range(0, len(sendable), CHUNK):
        chunk = sendable[start:start + CHUNK]
        resp = await clients.tasks.ImportVouchers(tasks_pb2.ImportVouchersRequest(
            source=source, actor_id=caller.id,
            vouchers=[tasks_pb2.Voucher(row=i, voucher_id=r.voucher_id, project_id=p.id, amount=r.amount,
                                        currency=r.currency, category=r.category, occurred_on=r.occurred_on,
                                        description=r.description) for i, r, p in chunk],
        ))
        for res in resp.results:
            row = rows[res.row]
            results[res.row] = {
                "row": row.row, "voucher_id": res.voucher_id or row.voucher_id, "status": res.status,
                "project_id": res.project_id or None, "cost_id": res.cost_id or None,
                "errors": [_error(p.field, p.code, p.message_en if en else p.message_zh, sheet=sheet)
                           for p in res.problems],
            }
            if res.status == "applied":
                booked.add(res.project_id)
    # Wake each touched project's execution workflow: reporting events and budget rules.
    for project in {p.id: p for _, _, p in sendable if p.id in booked}.values():
        await notify_execution(clients, project, "cost.recorded")
    ordered = [results[i] for i in range(len(rows))]
    summary = {s: sum(r["status"] == s for r in ordered) for s in ("applied", "duplicate", "error")}
    log.info("finance.costs", source=source, rows=len(rows), **summary)
    await audit.record(clients, "finance.costs_imported", actor_id=caller.id, target_type="finance_source",
                       target_id=source, details={"rows": len(rows), **summary})
    return {"source": source, "summary": summary, "results": ordered}


@router.post("/integrations/finance/costs", response_model=CostFeedOut)
async def post_costs(body: VoucherBatchIn, caller: FinanceCaller, clients: Clients) -> dict[str, Any]:
    """Book a batch of finance vouchers (≤ 1000) as actual costs: `{source?, vouchers: [{voucher_id,
    project_code, amount, currency?, category?, occurred_on, description?}]}`. 200 with one result
    per voucher, in order: `applied`, `duplicate` or `error` with `errors: [{field, code, message}]`
    (`unknown_project`, `project_not_active`, `invalid_voucher` for a bad amount / date / currency,
    `voucher_conflict` for a known voucher id with other content). Idempotent per voucher id."""
    return await _book(clients, caller, body.source, finance_costs.from_json(body.vouchers), sheet=False)


@router.post("/integrations/finance/costs/import", response_model=CostFeedOut)
async def import_costs(
    caller: FinanceCaller,
    clients: Clients,
    file: Annotated[UploadFile, File(description=".xlsx or .csv (UTF-8 or GBK); header row 凭证号, 项目编号, 金额, "
                                                 "发生日期, optional 类别, 摘要, 币种")],
    source: Annotated[str, Form(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$",
                                description="The sending system; voucher ids are unique per source")] = "finance",
) -> dict[str, Any]:
    """Book the vouchers of a sheet (≤ 5000 rows), read leniently: `¥1,234.50`, `1.2万`, dates like
    `2026/3/5` or Excel dates. The answer is as for the JSON batch, `row` being the sheet row and
    each error naming its `column`; a file without the required columns → 422 on `file`."""
    data = await file.read(MAX_FILE + 1)
    if len(data) > MAX_FILE:
        raise ValidationFailed([FieldViolation("file", "文件超过 20 MB", "the file exceeds 20 MB")])
    try:
        rows = raw_rows(data, file.filename or "")
    except UnknownEncoding:
        raise ValidationFailed([FieldViolation("file", "无法识别文件编码（请用 UTF-8 或 GBK 的 CSV，或 xlsx）",
                                               "unreadable text encoding (use UTF-8 or GBK CSV, or xlsx)")]) from None
    except Exception:  # a damaged workbook: zip, XML or openpyxl errors alike
        raise ValidationFailed([FieldViolation("file", "无法读取文件（须为 .xlsx 或 .csv）",
                                               "cannot read the file (.xlsx or .csv expected)")]) from None
    vouchers = finance_costs.from_sheet(rows)
    if not vouchers:
        raise ValidationFailed([FieldViolation("file", "文件中没有凭证行", "the file has no voucher rows")])
    return await _book(clients, caller, source, vouchers, sheet=True)
