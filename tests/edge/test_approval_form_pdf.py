"""The printable 审批单 and the branding printed on it, through the HTTP API (issue 16 item 6): the
owner and an approver download it; a field the viewer may not read is absent (label and value)
while one who may read it sees both; no approval yet → 409; branding validation names the field,
non-admins may not change it, the logo is served and printed, and every change is audited."""

from __future__ import annotations

import base64
import io
import random
import re
import uuid
import zlib
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from PIL import Image

from edge.routes import printing
from tests.edge.conftest import Org, eventually
from tests.edge.test_field_permissions import AMOUNT, PHONE, decide, file, restricted_form
from tests.unit.test_printing import pdf_texts

pytestmark = pytest.mark.asyncio(loop_scope="session")

PRINTED_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture(autouse=True)
def print_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(printing, "now", lambda: PRINTED_AT)


def png(width: int = 160, height: int = 48, noise: bool = False) -> bytes:
    img = Image.new("RGB", (width, height), (30, 90, 200))
    if noise:  # incompressible pixels: a file well over 256 KB
        img = Image.frombytes("RGB", (width, height), random.Random(7).randbytes(width * height * 3))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def texts(pdf: bytes) -> list[str]:
    """The text of a (compressed) PDF: each ASCII85 + Flate stream (reportlab's page compression)
    decoded, then read as tests read PDFs."""
    def inflate(m: re.Match[bytes]) -> bytes:
        try:
            raw = base64.a85decode(m.group(1).strip().removesuffix(b"~>"), ignorechars=b" \t\n\r\v")
            return b"stream\n" + zlib.decompress(raw) + b"\nendstream"
        except (ValueError, zlib.error):
            return m.group(0)

    return pdf_texts(re.sub(rb"stream\r?\n(.*?)endstream", inflate, pdf, flags=re.S))


async def form_pdf(client: httpx.AsyncClient, pid: str) -> httpx.Response:
    return await client.get(f"/api/v1/projects/{pid}/approval/form.pdf")


async def approved_project(admin: httpx.AsyncClient, org: Org) -> tuple[str, dict[str, str], str]:
    form = await restricted_form(admin, org)
    pid, secrets = await file(org, form, "P")
    await decide(org["director"], pid, "approve")
    await decide(org["finance"], pid, "approve")

    async def active() -> bool:
        return (await admin.get(f"/api/v1/projects/{pid}")).json()["status"] == "active"

    assert await eventually(active)
    code = str((await admin.get(f"/api/v1/projects/{pid}")).json()["code"])
    return pid, secrets, code


async def test_owner_and_approvers_download_it_and_withheld_fields_never_show(
    admin: httpx.AsyncClient, org: Org
) -> None:
    pid, secrets, code = await approved_project(admin, org)
    money = "¥7,654,321.09"
    assert AMOUNT == "7654321.09"

    r = await form_pdf(org["rep"], pid)  # the owner reads everything
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    assert r.headers["content-disposition"].startswith("attachment;")
    assert f"filename*=UTF-8''{quote(code + '-审批单.pdf', safe='')}" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff"
    shown = texts(r.content)
    for t in ("项目报备审批单", code, "项目信息", "客户名称", "金额", money, "联系电话", PHONE, "负责人", "销售甲",
              "部门", "销售一部", "状态", "执行中", "提交时间", "审批完成时间", "表单内容", "行业", "制造",
              "毛利", secrets["margin"], "底价说明", secrets["note"], "审批记录", "总监审批", "财务审批", "总监",
              "财务", "同意", "ok", "审批结果", "审批通过", "第 1 / 1 页"):
        assert t in shown, t
    assert "打印时间：2026-12-01 10:00:00　打印人：销售甲" in shown

    r = await form_pdf(org["finance"], pid)  # an approver holding the role reads the restricted fields
    assert r.status_code == 200, r.text
    shown = texts(r.content)
    assert {"毛利", secrets["margin"], money, PHONE} <= set(shown)
    assert "打印时间：2026-12-01 10:00:00　打印人：财务" in shown

    r = await form_pdf(org["director"], pid)  # an approver without it: neither label nor value
    assert r.status_code == 200, r.text
    shown = texts(r.content)
    assert "总监审批" in shown and "行业" in shown and "制造" in shown and "同意" in shown
    for withheld in ("毛利", "底价说明", secrets["margin"], secrets["note"], money, PHONE, "联系电话"):
        assert withheld not in shown, withheld
    assert not any(AMOUNT in t or "7,654,321" in t for t in shown)
    assert secrets["margin"].encode() not in r.content

    r = await form_pdf(org["outsider"], pid)  # may not see the project
    assert r.status_code == 404, r.text


async def test_no_approval_yet_is_a_conflict(admin: httpx.AsyncClient, org: Org) -> None:
    form = await restricted_form(admin, org)
    r = await org["rep"].post("/api/v1/projects", json={
        "form_key": form, "name": f"草稿{uuid.uuid4().hex[:4]}", "amount": "10",
        "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"}, "fields": {"industry": "制造"}})
    assert r.status_code == 201, r.text
    r = await form_pdf(org["rep"], r.json()["id"])
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["code"] == "illegal_state" and error["message"] and "details" in error


async def test_branding_is_validated_served_printed_and_audited(admin: httpx.AsyncClient, org: Org) -> None:
    async def put(client: httpx.AsyncClient, body: dict[str, object]) -> httpx.Response:
        return await client.put("/api/v1/branding", json=body)

    def fields(r: httpx.Response) -> list[str]:
        assert r.status_code == 422, r.text
        return [d["field"] for d in r.json()["error"]["details"]]

    name = f"华东某某科技集团{org.run}"
    logo = png()
    # refusals name the field, and change nothing
    assert fields(await put(admin, {"company_name": "名" * 101})) == ["company_name"]
    assert fields(await put(admin, {"company_name": "  "})) == ["company_name"]
    assert fields(await put(admin, {"company_name": name, "logo_base64": "not base64!"})) == ["logo_base64"]
    gif = base64.b64encode(b"GIF89a" + b"\0" * 20).decode()
    assert fields(await put(admin, {"company_name": name, "logo_base64": gif})) == ["logo_base64"]
    truncated = base64.b64encode(logo[:60]).decode()  # a PNG header, then nothing to decode
    assert fields(await put(admin, {"company_name": name, "logo_base64": truncated})) == ["logo_base64"]
    big = png(400, 400, noise=True)
    assert len(big) > 256 * 1024
    assert fields(await put(admin, {"company_name": name, "logo_base64": base64.b64encode(big).decode()})) == [
        "logo_base64"]
    r = await put(org["rep"], {"company_name": name})
    assert r.status_code == 403, r.text
    assert (await org["rep"].get("/api/v1/branding")).json()["company_name"] != name

    # set: name and logo
    data_url = "data:image/png;base64," + base64.b64encode(logo).decode()
    r = await put(admin, {"company_name": name, "logo_base64": data_url})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["company_name"] == name and body["has_logo"] and body["logo_type"] == "image/png"
    assert (body["logo_width"], body["logo_height"]) == (160, 48)
    assert body["logo_url"].startswith("/api/v1/branding/logo")
    r = await org["rep"].get("/api/v1/branding")
    assert r.status_code == 200 and r.json()["company_name"] == name and r.json()["has_logo"]
    r = await org["rep"].get(body["logo_url"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/png" and r.content == logo

    # printed in the header of the form
    pid, _, _ = await approved_project(admin, org)
    r = await form_pdf(org["rep"], pid)
    assert r.status_code == 200 and name in texts(r.content) and b"/Subtype /Image" in r.content

    # a JPEG replaces it; a change of name keeps it; remove_logo removes it
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 10, 10)).save(buf, "JPEG")
    r = await put(admin, {"company_name": name, "logo_base64": base64.b64encode(buf.getvalue()).decode()})
    assert r.status_code == 200 and r.json()["logo_type"] == "image/jpeg", r.text
    r = await put(admin, {"company_name": name + "（新）"})
    assert r.status_code == 200 and r.json()["has_logo"] and r.json()["company_name"] == name + "（新）"
    assert (await org["rep"].get("/api/v1/branding/logo")).headers["content-type"] == "image/jpeg"
    r = await put(admin, {"company_name": name, "remove_logo": True})
    assert r.status_code == 200 and not r.json()["has_logo"] and r.json()["logo_url"] is None
    r = await org["rep"].get("/api/v1/branding/logo")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await form_pdf(org["rep"], pid)
    assert name in texts(r.content) and b"/Subtype /Image" not in r.content

    # audited like the other admin settings
    r = await admin.get("/api/v1/audit-log", params={"action": "branding.changed", "limit": 20})
    assert r.status_code == 200, r.text
    logged = [e for e in r.json()["items"] if name in str(e.get("details"))]
    assert {str(e["details"].get("logo")) for e in logged} >= {"replaced", "kept", "removed"}
