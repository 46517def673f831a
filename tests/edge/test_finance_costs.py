"""The inbound finance cost feed over HTTP: a JSON batch of vouchers and a CSV / XLSX upload with
Chinese headers, booked once per voucher id into the project's actual costs, answered per row
(applied / duplicate / error naming the field); the Standard Webhooks signature when a secret is
configured (the CRM webhook's verification)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import pytest_asyncio

from edge.app import create_app
from edge.clients import EdgeDeps
from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_cost_access import approved_project
from tests.edge.test_integrations import sign
from tests.sheets import xlsx

pytestmark = pytest.mark.asyncio(loop_scope="session")

FEED = "/api/v1/integrations/finance/costs"
IMPORT = "/api/v1/integrations/finance/costs/import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest_asyncio.fixture(loop_scope="session")
async def finance(stack: Stack, admin: httpx.AsyncClient, org: Org) -> AsyncIterator[httpx.AsyncClient]:
    uid = org.user("kingdee")
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": uid, "name": "金蝶集成", "department_id": org.dept, "roles": ["integrator"]}]})
    assert r.status_code == 200, r.text
    token = (await admin.post(f"/api/v1/users/{uid}/tokens")).json()["token"]
    async with stack.client(token) as client:
        yield client


async def project_codes(admin: httpx.AsyncClient, org: Org) -> tuple[str, str, str]:
    """(id, code) of an active project and the code of a draft one."""
    pid = await approved_project(admin, org)
    code = (await admin.get(f"/api/v1/projects/{pid}")).json()["code"]
    draft = (await org["rep"].get("/api/v1/projects", params={"status": "draft"})).json()["items"]
    if not draft:
        form = (await admin.get(f"/api/v1/projects/{pid}")).json()["form_key"]
        r = await org["rep"].post("/api/v1/projects", json={
            "form_key": form, "name": "草稿项目", "customer": {"name": f"客户{uuid.uuid4().hex[:6]}有限公司"},
            "amount": "1000"})
        assert r.status_code == 201, r.text
        draft_code = r.json()["code"]
    else:
        draft_code = draft[0]["code"]
    return pid, code, draft_code


def voucher(code: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"voucher_id": f"记-{uuid.uuid4().hex[:8]}", "project_code": code, "amount": "1234.50",
                            "currency": "CNY", "category": "差旅费", "occurred_on": "2026-03-05",
                            "description": "客户现场差旅"}
    body.update(over)
    return body


async def actual(admin: httpx.AsyncClient, pid: str) -> Decimal:
    r = await admin.get(f"/api/v1/projects/{pid}/costs")
    assert r.status_code == 200, r.text
    return Decimal(r.json()["actual"])


async def test_json_batch_applied_duplicate_conflict_and_row_errors(
    admin: httpx.AsyncClient, org: Org, finance: httpx.AsyncClient
) -> None:
    pid, code, draft_code = await project_codes(admin, org)
    source = f"kd{uuid.uuid4().hex[:6]}"
    good, second = voucher(code), voucher(code, amount=88, category="材料费", description="")
    batch = [
        good,
        second,
        voucher("BB-NOPE-404"),
        voucher(draft_code),
        voucher(code, amount="12.345"),
        voucher(code, amount="-5"),
        voucher(code, amount="abc"),
        voucher(code, currency="USD"),
        voucher(code, occurred_on="2026-02-30"),
        voucher(code, voucher_id=""),
        {**good},  # the same voucher twice in one batch: the second is a duplicate
    ]
    r = await finance.post(FEED, json={"source": source, "vouchers": batch})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["summary"] == {"applied": 2, "duplicate": 1, "error": 8}
    rows = got["results"]
    assert [x["row"] for x in rows] == list(range(len(batch)))
    assert [x["status"] for x in rows[:2]] == ["applied", "applied"] and rows[0]["project_id"] == pid
    assert rows[10]["status"] == "duplicate" and rows[10]["cost_id"] == rows[0]["cost_id"]
    errors = {i: [(e["field"], e["code"]) for e in rows[i]["errors"]] for i in range(2, 10)}
    assert errors == {
        2: [("project_code", "unknown_project")],
        3: [("project_code", "project_not_active")],
        4: [("amount", "invalid_voucher")],
        5: [("amount", "invalid_voucher")],
        6: [("amount", "invalid_voucher")],
        7: [("currency", "invalid_voucher")],
        8: [("occurred_on", "invalid_voucher")],
        9: [("voucher_id", "invalid_voucher")],
    }
    assert "不存在" in rows[2]["errors"][0]["message"]
    assert await actual(admin, pid) == Decimal("1322.50")
    costs = (await admin.get(f"/api/v1/projects/{pid}/costs")).json()
    assert costs["by_kind"]["finance"] in ("1322.50", "1322.5")

    async def reported() -> bool:  # the execution loop forwards the cost.recorded events to reporting
        r = await admin.get(f"/api/v1/reports/projects/{pid}")
        return r.status_code == 200 and Decimal(r.json()["project"]["actual_cost"] or 0) == Decimal("1322.50")

    await eventually(reported, timeout=30)
    # Re-posting changes nothing; the same id with other content is a per-row conflict.
    r = await finance.post(FEED, json={"source": source, "vouchers": [good, {**second, "amount": "99.00"}]})
    assert [x["status"] for x in r.json()["results"]] == ["duplicate", "error"]
    assert r.json()["results"][1]["errors"][0]["code"] == "voucher_conflict"
    assert r.json()["results"][1]["errors"][0]["field"] == "voucher_id"
    assert await actual(admin, pid) == Decimal("1322.50")
    # Another source may use the same voucher id.
    r = await finance.post(FEED, json={"source": f"{source}-yy", "vouchers": [good]})
    assert r.json()["summary"]["applied"] == 1
    assert await actual(admin, pid) == Decimal("2557.00")


async def test_xlsx_upload_lenient_cells_and_row_errors(
    admin: httpx.AsyncClient, org: Org, finance: httpx.AsyncClient
) -> None:
    pid, code, _ = await project_codes(admin, org)
    run = uuid.uuid4().hex[:6]
    sheet = xlsx([
        ["凭证号*", "项目编号", "金额", "类别", "发生日期", "摘要"],
        [f"X{run}-1", code, "¥1,234.50", "差旅费", "2026/3/5", "出差"],
        [f"X{run}-2", code, "1.2万", "外包", "2026年3月6日", "外包费"],
        [],
        [f"X{run}-3", code, "一千元", "材料", "2026-03-07", ""],
        [f"X{run}-4", code, 500, "材料", "2026-13-45", ""],
        [f"X{run}-5", "BB-NOPE-1", 10, "材料", "2026-03-07", ""],
        [f"X{run}-6", code, 10.5, "材料", "2026-03-08", "Excel 数字"],
    ])
    files = {"file": ("成本.xlsx", sheet, XLSX)}
    r = await finance.post(IMPORT, files=files, data={"source": f"kd{run}"})
    assert r.status_code == 200, r.text
    rows = {x["row"]: x for x in r.json()["results"]}
    assert sorted(rows) == [2, 3, 5, 6, 7, 8]  # sheet rows; the blank row 4 is skipped
    assert [rows[n]["status"] for n in (2, 3, 8)] == ["applied"] * 3
    assert rows[5]["errors"][0]["field"] == "amount" and rows[5]["errors"][0]["column"] == "金额"
    assert rows[6]["errors"][0]["field"] == "occurred_on" and rows[6]["errors"][0]["column"] == "发生日期"
    assert rows[7]["errors"][0]["code"] == "unknown_project" and rows[7]["errors"][0]["column"] == "项目编号"
    assert await actual(admin, pid) == Decimal("1234.50") + Decimal("12000") + Decimal("10.50")
    # The same file again: every booked row is a duplicate, nothing changes.
    r = await finance.post(IMPORT, files=files, data={"source": f"kd{run}"})
    assert r.json()["summary"] == {"applied": 0, "duplicate": 3, "error": 3}
    assert await actual(admin, pid) == Decimal("13245.00")
    # CSV in GBK, what Excel on Chinese Windows writes.
    csv = f"凭证号,项目编号,金额,发生日期\nC{run},{code},\"1,000\",2026/3/9\n".encode("gbk")
    r = await finance.post(IMPORT, files={"file": ("成本.csv", csv, "text/csv")}, data={"source": f"kd{run}"})
    assert r.status_code == 200 and r.json()["summary"]["applied"] == 1, r.text


@pytest.mark.parametrize(("name", "content", "field"), [
    ("a.xlsx", b"PK\x03\x04 not a zip at all", "file"),
    ("a.csv", "摘要,类别\n差旅,费用\n".encode(), "file"),  # required columns missing
    ("a.csv", b"", "file"),
    ("a.csv", b"\xff\xfe\x00garbage\x81\x00", "file"),
    ("a.csv", "凭证号,项目编号,金额,发生日期\n".encode(), "file"),  # header only
])
async def test_unreadable_files_are_422_on_file(
    finance: httpx.AsyncClient, name: str, content: bytes, field: str
) -> None:
    r = await finance.post(IMPORT, files={"file": (name, content, "application/octet-stream")})
    assert r.status_code == 422, r.text
    assert [d["field"] for d in r.json()["error"]["details"]] == [field]


async def test_callers_and_bad_batches(finance: httpx.AsyncClient, org: Org, stack: Stack) -> None:
    async with stack.client(token=None) as anon:
        assert (await anon.post(FEED, json={"vouchers": []})).status_code == 401
    r = await org["rep"].post(FEED, json={"vouchers": [voucher("X")]})
    assert r.status_code == 403 and r.json()["error"]["code"] == "integrator_required"
    for body in ({"vouchers": []}, {"vouchers": "x"}, {"vouchers": [1]}, {"source": "坏 来源", "vouchers": [{}]}, []):
        r = await finance.post(FEED, json=body)
        assert r.status_code == 422, (body, r.text)
    # Scalars of any type are judged per row, never a 500.
    for raw in (b'{"vouchers": [{"voucher_id": 7, "project_code": true, "amount": 1e400}]}',
                b'{"vouchers": [{"voucher_id": 7, "project_code": "X", "amount": 12.5, "occurred_on": 20260305}]}'):
        r = await finance.post(FEED, content=raw, headers={"content-type": "application/json"})
        assert r.status_code in (200, 422), r.text
        if r.status_code == 200:
            assert r.json()["results"][0]["status"] == "error"


@pytest_asyncio.fixture(loop_scope="session")
async def signed(stack: Stack) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The same stack behind an edge configured with a finance signing secret."""
    secret = "whsec_" + base64.b64encode(uuid.uuid4().bytes * 2).decode()
    settings = stack.settings.model_copy(update={"finance_signing_secret": secret})
    d = stack.deps
    deps = EdgeDeps(settings=settings, channels=d.channels, stubs=d.stubs, health=d.health, redis=d.redis,
                    temporal_client=d.temporal_client, owns_temporal=False)
    app = create_app(settings, deps=deps)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge.test",
                                 timeout=60) as client:
        yield client, secret


async def test_signature_is_required_when_configured(
    signed: tuple[httpx.AsyncClient, str], admin: httpx.AsyncClient, org: Org, finance: httpx.AsyncClient
) -> None:
    client, secret = signed
    auth = {"Authorization": finance.headers["Authorization"]}
    pid, code, _ = await project_codes(admin, org)
    payload = json.dumps({"vouchers": [voucher(code, amount="10.00")]}, ensure_ascii=False).encode()

    async def post(headers: dict[str, str], body: bytes = payload) -> httpx.Response:
        return await client.post(FEED, content=body, headers={**auth, "content-type": "application/json", **headers})

    before = await actual(admin, pid)
    r = await post({})
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_missing", r.text
    wrong = "whsec_" + base64.b64encode(b"another-secret-0123456789").decode()
    r = await post(sign(wrong, payload))
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid", r.text
    r = await post(sign(secret, payload), body=payload.replace(b"10.00", b"99999.00"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid"
    assert await actual(admin, pid) == before
    r = await post(sign(secret, payload))
    assert r.status_code == 200 and r.json()["summary"]["applied"] == 1, r.text
    assert await actual(admin, pid) == before + Decimal("10.00")
    # An upload is signed over its raw multipart body the same way (a CSV: the signed text is UTF-8).
    csv = f"凭证号,项目编号,金额,发生日期\nS{uuid.uuid4().hex[:6]},{code},5,2026-03-05\n".encode()
    req = client.build_request("POST", IMPORT, files={"file": ("c.csv", csv, "text/csv")}, headers=auth)
    body = req.read()
    upload = {**auth, "content-type": req.headers["content-type"]}
    r = await client.post(IMPORT, content=body, headers=upload)
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_missing", r.text
    r = await client.post(IMPORT, content=body, headers={**upload, **sign(secret, body), **upload})
    assert r.status_code == 200 and r.json()["summary"]["applied"] == 1, r.text
    assert await actual(admin, pid) == before + Decimal("15.00")
    # A workbook is binary: signed over its raw bytes (HMAC-SHA256 of "<id>.<timestamp>.<body>").
    sheet = xlsx([["凭证号", "项目编号", "金额", "发生日期"], [f"W{uuid.uuid4().hex[:6]}", code, 5, "2026-03-05"]])
    req = client.build_request("POST", IMPORT, files={"file": ("c.xlsx", sheet, XLSX)}, headers=auth)
    body = req.read()
    upload = {**auth, "content-type": req.headers["content-type"]}
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", str(int(time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = base64.b64encode(hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()).decode()
    headers = {**upload, "webhook-id": msg_id, "webhook-timestamp": stamp}
    r = await client.post(IMPORT, content=body, headers={**headers, "webhook-signature": "v1," + mac[::-1]})
    assert r.status_code == 401 and r.json()["error"]["code"] == "signature_invalid", r.text
    r = await client.post(IMPORT, content=body, headers={**headers, "webhook-signature": "v1," + mac})
    assert r.status_code == 200 and r.json()["summary"]["applied"] == 1, r.text
    assert await actual(admin, pid) == before + Decimal("20.00")
