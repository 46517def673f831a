"""Printed documents under /api/v1: the 审批单 of a project (its registration and approval record
as an A4 PDF for filing) and the branding printed on documents (company name and logo; admins
change it, audited)."""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response

from baobei.core.errors import Conflict, FieldViolation, NotFound, ValidationFailed
from baobei.printing import approval_form, blocks
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from edge import approval_sheet, audit, mapping
from edge.client_address import client_ip
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.downloads import file_response
from edge.openapi_examples import ADMIN_REQUIRED, ErrorExample, error_examples
from edge.routes import area_router, bind_project
from edge.routes.projects import approval_instance, visible_project
from edge.schemas_printing import BrandingIn, BrandingOut

router = area_router("printing")
LOGO_URL = "/api/v1/branding/logo"
DATA_URL = re.compile(r"^data:image/[a-z]+;base64,", re.IGNORECASE)
NO_APPROVAL = ErrorExample(409, "illegal_state", "项目尚未提交审批，没有审批单")
NO_LOGO = ErrorExample(404, "not_found", "尚未设置 Logo")
BRANDING_INVALID = ErrorExample(422, "validation_failed", "输入校验失败", (
    ("logo_base64", "Logo 须为 PNG 或 JPEG 图片"), ("company_name", "公司名称不能超过 100 个字符")))
PDF_RESPONSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "The 审批单 as a PDF download (A4 portrait)",
    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"Content-Disposition": {
        "description": "attachment; filename=\"<ASCII fallback>\"; filename*=UTF-8''<code>-审批单.pdf",
        "schema": {"type": "string"}}},
}}
LOGO_RESPONSE: dict[int | str, dict[str, Any]] = {200: {
    "description": "The logo's bytes with its type",
    "content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
}}


def now() -> datetime:
    """The print clock: the time printed in the footer (a seam: tests set it)."""
    return datetime.now(UTC)


def branding_out(b: registry_pb2.Branding) -> dict[str, Any]:
    return {
        "company_name": b.company_name or blocks.DEFAULT_COMPANY,
        "has_logo": b.has_logo,
        "logo_url": f"{LOGO_URL}?v={b.logo_sha256[:12]}" if b.has_logo else None,
        "logo_type": b.logo_type or None,
        "logo_width": b.logo_width or None,
        "logo_height": b.logo_height or None,
        "version": b.version,
        "updated_at": mapping.ts(b.updated_at),
        "updated_by": b.updated_by or None,
    }


async def current_branding(clients: EdgeClients) -> blocks.Branding:
    b = await clients.registry.GetBranding(registry_pb2.GetBrandingRequest(with_logo=True))
    return blocks.Branding(company_name=b.company_name or blocks.DEFAULT_COMPANY, logo=b.logo)


@router.get("/branding", response_model=BrandingOut)
async def get_branding(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The branding printed on documents (any signed-in user): company name (报备 Baobei until set)
    and whether there is a logo (`logo_url` serves it)."""
    return branding_out(await clients.registry.GetBranding(registry_pb2.GetBrandingRequest()))


def _logo_bytes(value: str) -> bytes:
    text = DATA_URL.sub("", value.strip())
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        raise ValidationFailed([FieldViolation("logo_base64", "Logo 不是有效的 base64 数据",
                                               "the logo is not valid base64")])
    return data


@router.put("/branding", response_model=BrandingOut, responses=error_examples(BRANDING_INVALID, ADMIN_REQUIRED))
async def put_branding(body: BrandingIn, request: Request, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Set the company name (1–100 characters) and replace the logo (`logo_base64`: PNG or JPEG,
    at most 256 KB; its type is read from its bytes and its pixels decoded) or remove it
    (`remove_logo`); absent `logo_base64` keeps the logo. Admin only; audited (`branding.changed`).
    422 names `company_name` or `logo_base64`."""
    logo = _logo_bytes(body.logo_base64) if body.logo_base64 is not None else b""
    try:
        b = await clients.registry.PutBranding(registry_pb2.PutBrandingRequest(
            company_name=body.company_name, logo=logo, remove_logo=body.remove_logo and not logo,
            actor_id=admin.id))
    except ValidationFailed as e:  # the registry names its field `logo`; the API's is `logo_base64`
        raise ValidationFailed([FieldViolation("logo_base64" if v.field == "logo" else v.field, v.zh, v.en)
                                for v in e.violations], e.zh, e.en) from None
    logo_change = "replaced" if logo else "removed" if body.remove_logo else "kept"
    await audit.record(clients, "branding.changed", actor_id=admin.id, target_type="branding",
                       details={"company_name": b.company_name, "logo": logo_change,
                                "logo_sha256": b.logo_sha256, "version": b.version},
                       ip=client_ip(request.scope))
    return branding_out(b)


@router.get("/branding/logo", response_class=Response, responses={**LOGO_RESPONSE, **error_examples(NO_LOGO)})
async def get_logo(user: CurrentUser, clients: Clients) -> Response:
    """The logo (any signed-in user) with its type (image/png or image/jpeg); 404 when none."""
    b = await clients.registry.GetBranding(registry_pb2.GetBrandingRequest(with_logo=True))
    if not b.has_logo or not b.logo:
        raise NotFound("尚未设置 Logo", "no logo has been set")
    return Response(content=b.logo, media_type=b.logo_type or "application/octet-stream", headers={
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=300",
        "ETag": f'"{b.logo_sha256}"',
    })


@router.get("/projects/{project_id}/approval/form.pdf", response_class=Response,
            responses={**PDF_RESPONSE, **error_examples(NO_APPROVAL)})
async def approval_form_pdf(project_id: str, request: Request, user: CurrentUser, clients: Clients) -> Response:
    """The 审批单: the registration and its approval record as an A4 PDF for filing, for anyone who
    may see the project (404 otherwise). The header carries the branding's logo and company name
    and the title 项目报备审批单; then the project (code, name, customer, amount, owner,
    department, region, business line, status, submitted and decided times), the form's fields the
    caller may read (a withheld field is absent, label and value), the approval record (step,
    approver, action, comment, time in Asia/Shanghai), CCs and the result; every page's footer
    says when and by whom it was printed and 第 x / y 页. A project without an approval → 409
    `illegal_state`. Downloaded as `<code>-审批单.pdf`."""
    bind_project(request, project_id)
    project = await visible_project(clients, user, project_id)
    instance = await approval_instance(clients, project_id)
    if instance is None or not instance.id:
        raise Conflict("项目尚未提交审批，没有审批单", "the project has no approval yet", code="illegal_state")
    sheet, branding = await asyncio.gather(
        approval_sheet.build(clients, user, project, instance), current_branding(clients))
    printed = blocks.Printed(at=now(), by=user.name or user.id)
    pdf = await asyncio.to_thread(approval_form.render, sheet, branding=branding, printed=printed)
    return file_response(pdf, filename=f"{project.code or project.id}-审批单.pdf", content_type="application/pdf")
