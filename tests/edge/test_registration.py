"""Registration over HTTP (issue 3): the form engine (conditional fields, CEL rules, defaults,
attachments), collisions warn/block, draft edits with optimistic versions and history, search
filters, field permissions on every read path, Excel import/export, protection/waitlist state."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.edge.conftest import Org
from tests.policies import no_approval_policy
from tests.sheets import xlsx as sheet

pytestmark = pytest.mark.asyncio(loop_scope="session")
USCC = "91350100M000100Y43"


def form_body(**settings: Any) -> dict[str, Any]:
    return {
        "title": "项目报备",
        "fields": [
            {"key": "phone", "label": "电话", "type": "phone", "required": True},
            {"key": "kind", "label": "类型", "type": "select", "options": ["新签", "续签"], "default": "新签"},
            {"key": "old_contract", "label": "原合同号", "type": "text", "required_when": "fields.kind == '续签'"},
            {"key": "start", "label": "开始", "type": "date"},
            {"key": "end", "label": "结束", "type": "date"},
            {"key": "margin", "label": "毛利", "type": "money", "read_roles": ["finance"], "write_roles": ["finance"]},
            {"key": "doc", "label": "附件", "type": "attachment", "accept": [".pdf"], "max_size": 1000},
        ],
        "rules": [{"expr": "fields.end >= fields.start", "field": "fields.end", "message": "结束不能早于开始",
                   "message_en": "end before start"}],
        "settings": settings,
    }


async def make_form(admin: httpx.AsyncClient, org: Org, **settings: Any) -> str:
    key = f"reg-{org.run}-{uuid.uuid4().hex[:4]}"
    r = await admin.put(f"/api/v1/forms/{key}", json=form_body(**settings))
    assert r.status_code == 200, r.text
    r = await admin.put(**no_approval_policy(key))
    assert r.status_code == 200, r.text
    return key


def body(form: str, customer: str | None = None, **over: Any) -> dict[str, Any]:
    out = {"form_key": form, "name": f"项目{uuid.uuid4().hex[:6]}",
           "customer": {"name": customer or f"客户{uuid.uuid4().hex[:8]}有限公司"}, "amount": "100.00",
           "fields": {"phone": "13700001111"}}
    out.update(over)
    return out


def details(r: httpx.Response, status: int = 422) -> dict[str, str]:
    assert r.status_code == status, r.text
    return {d["field"]: d["message"] for d in r.json()["error"]["details"]}


async def test_invalid_definitions_refused(admin: httpx.AsyncClient, org: Org) -> None:
    bad = form_body(conflict_policy="warn")
    bad["fields"][2]["required_when"] = "fields.kind =="
    bad["rules"][0]["expr"] = "nope.x > 1"
    got = details(await admin.put(f"/api/v1/forms/bad-{org.run}", json=bad, headers={"Accept-Language": "en"}))
    assert "fields[2].required_when" in got and "rules[0].expr" in got
    r = await admin.put(f"/api/v1/forms/bad-{org.run}", json={**form_body(), "settings": {"conflict_policy": "x"}})
    assert r.status_code == 422
    r = await admin.get(f"/api/v1/forms/bad-{org.run}")
    assert r.status_code == 404


async def test_form_engine_conditional_rules_defaults(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    r = await admin.get(f"/api/v1/forms/{form}")
    assert r.json()["rules"][0]["expr"] == "fields.end >= fields.start"
    assert r.json()["fields"][2]["required_when"] == "fields.kind == '续签'"
    rep = org["rep"]
    got = details(await rep.post("/api/v1/projects", json=body(form, fields={
        "phone": "123", "kind": "续签"})))
    assert set(got) == {"fields.phone", "fields.old_contract"}  # every violation at once
    got = details(await rep.post("/api/v1/projects", json=body(form, fields={
        "phone": "13700001111", "start": "2026-05-02", "end": "2026-05-01"})))
    assert got == {"fields.end": "结束不能早于开始"}
    r = await rep.post("/api/v1/projects", json=body(form))
    assert r.status_code == 201, r.text
    p = (await rep.get(f"/api/v1/projects/{r.json()['id']}")).json()
    assert p["fields"]["kind"] == "新签"  # the default
    assert p["protection"]["state"] == "none"


async def test_attachments(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    r = await rep.post("/api/v1/attachments", files={"file": ("合同.pdf", b"%PDF-1.4 hello", "application/pdf")})
    assert r.status_code == 201, r.text
    att = r.json()
    assert att["id"].startswith("sha256:") and att["size"] == 14
    again = await rep.post("/api/v1/attachments", files={"file": ("合同.pdf", b"%PDF-1.4 hello", "application/pdf")})
    assert again.json()["id"] == att["id"]
    big = await rep.post("/api/v1/attachments", files={"file": ("大.pdf", b"%PDF" + b"x" * 2000, "application/pdf")})
    png = await rep.post("/api/v1/attachments", files={"file": ("a.png", b"\x89PNG....", "image/png")})
    exe = await rep.post("/api/v1/attachments", files={"file": ("a.exe", b"MZ", "application/x-msdownload")})
    assert exe.status_code == 422
    ok = await rep.post("/api/v1/projects", json=body(form, fields={"phone": "13700001111", "doc": att["id"]}))
    assert ok.status_code == 201, ok.text
    for bad in (big.json()["id"], png.json()["id"], "sha256:unknown"):
        got = details(await rep.post("/api/v1/projects", json=body(form, fields={"phone": "13700001111", "doc": bad})))
        assert set(got) == {"fields.doc"}


async def test_collisions_warn_and_block(admin: httpx.AsyncClient, org: Org) -> None:
    warn = await make_form(admin, org)
    block = await make_form(admin, org, conflict_policy="block")
    rep, rep2 = org["rep"], org["rep2"]
    base = f"杭州星{org.run}科技有限公司"
    first = await rep.post("/api/v1/projects", json=body(warn, base, name="智慧园区一期", submit=True))
    assert first.status_code == 201, first.text
    fid = first.json()["id"]
    # Same customer after normalisation (province, brackets, full-width, suffix): stored with a reason.
    variant = f"浙江省星{org.run}科技（杭州）股份有限公司"
    r = await rep2.post("/api/v1/projects", json=body(warn, variant, name="智慧园区一期"))
    assert r.status_code == 201
    conflicts = (await rep2.get(f"/api/v1/projects/{r.json()['id']}")).json()["conflicts"]
    assert conflicts[0]["project_id"] == fid
    assert "客户名称相同" in conflicts[0]["reason"] and "项目名称相似" in conflicts[0]["reason"]
    # Similar (not equal) name.
    r = await rep2.post("/api/v1/projects", json=body(warn, f"星{org.run}科术有限公司"))
    conflicts = (await rep2.get(f"/api/v1/projects/{r.json()['id']}")).json()["conflicts"]
    assert conflicts and "相似" in conflicts[0]["reason"]
    # Block: 409 with the colliding project, nothing stored.
    before = (await admin.get("/api/v1/projects", params={"customer": base})).json()["items"]
    r = await rep2.post("/api/v1/projects", json=body(block, variant))
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "customer_conflict"
    assert fid in r.json()["error"]["message"]
    after = (await admin.get("/api/v1/projects", params={"customer": base})).json()["items"]
    assert len(after) == len(before)


async def test_edit_draft_with_versions_and_history(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    pid = (await rep.post("/api/v1/projects", json=body(form))).json()["id"]
    change = {"version": 1, "amount": "250.5", "fields": {"kind": "续签", "old_contract": "HT-1"}}
    r = await rep.patch(f"/api/v1/projects/{pid}", json=change)
    assert r.status_code == 200, r.text
    p = r.json()
    assert p["version"] == 2 and p["amount"] == "250.50" and p["fields"]["old_contract"] == "HT-1"
    edited = [h for h in p["history"] if h["event"] == "edited"][0]
    assert {"field": "amount", "before": "100.00", "after": "250.50"} in edited["changes"]
    stale = await rep.patch(f"/api/v1/projects/{pid}", json={"version": 1, "name": "新名字"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    bad = details(await rep.patch(f"/api/v1/projects/{pid}", json={"version": 2, "fields": {"old_contract": None}}))
    assert set(bad) == {"fields.old_contract"}  # required while kind is 续签
    denied = await rep.patch(f"/api/v1/projects/{pid}", json={"version": 2, "fields": {"margin": "1.00"}})
    assert denied.status_code == 403 and denied.json()["error"]["details"][0]["field"] == "fields.margin"
    other = await org["rep2"].patch(f"/api/v1/projects/{pid}", json={"version": 2, "name": "x"})
    assert other.status_code == 404
    p = (await rep.get(f"/api/v1/projects/{pid}")).json()
    assert p["version"] == 2 and p["name"] != "新名字"


async def test_field_permissions_on_every_read_path(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    finance_writes = await org["rep"].post("/api/v1/projects", json=body(form, fields={"phone": "13700001111",
                                                                                       "margin": "9.00"}))
    assert finance_writes.status_code == 403
    r = await admin.post("/api/v1/projects", json=body(form, fields={"phone": "13700001111", "margin": "9.00"}))
    pid = r.json()["id"]
    # The manager sees the project (owner admin's department is none) → use a rep-owned one instead.
    r = await admin.patch(f"/api/v1/projects/{pid}", json={"version": 1, "fields": {"margin": "10.00"}})
    assert r.status_code == 200
    own = await org["rep"].post("/api/v1/projects", json=body(form, name=f"权限{org.run}"))
    oid = own.json()["id"]
    r = await admin.patch(f"/api/v1/projects/{oid}", json={"version": 1, "fields": {"margin": "7.00"}})
    assert r.status_code == 200, r.text
    boss = org["boss"]
    seen = (await boss.get(f"/api/v1/projects/{oid}")).json()
    assert "margin" not in seen["fields"]
    assert all(c["field"] != "fields.margin" for h in seen["history"] for c in h.get("changes", []))
    assert (await org["rep"].get(f"/api/v1/projects/{oid}")).json()["fields"]["margin"] == "7.00"  # the owner
    for fmt in ("csv", "xlsx"):
        r = await boss.get("/api/v1/exports/projects", params={"format": fmt, "q": f"权限{org.run}"})
        assert r.status_code == 200, r.text
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        else:
            rows = [list(x) for x in load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True)]
        assert "毛利" not in rows[0] and "电话" in rows[0] and len(rows) == 2
        assert "7.00" not in [str(c) for c in rows[1]]
    r = await org["rep"].get("/api/v1/exports/projects", params={"format": "csv", "q": f"权限{org.run}"})
    assert "毛利" in r.content.decode("utf-8-sig").splitlines()[0]


async def test_search_filters(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    rep = org["rep"]
    tag = uuid.uuid4().hex[:6]
    for amount, region in (("10", "华东"), ("500", "华东"), ("5000", "华南")):
        r = await rep.post("/api/v1/projects", json=body(form, f"搜索{tag}公司", amount=amount, region=region,
                                                         business_line="软件"))
        assert r.status_code == 201
    q = {"customer": f"搜索{tag}"}
    got = (await rep.get("/api/v1/projects", params={**q, "region": "华东", "amount_min": "100"})).json()["items"]
    assert [p["amount"] for p in got] == ["500.00"]
    got = (await rep.get("/api/v1/projects", params={**q, "amount_max": "500", "business_line": "软件"})).json()
    assert sorted(p["amount"] for p in got["items"]) == ["10.00", "500.00"]
    got = (await rep.get("/api/v1/projects", params={**q, "owner_id": org.user("rep"), "created_from": "2000-01-01",
                                                      "limit": 2})).json()
    assert len(got["items"]) == 2 and got["next_cursor"]
    assert (await org["outsider"].get("/api/v1/projects", params=q)).json()["items"] == []
    bad = details(await rep.get("/api/v1/projects", params={"amount_min": "abc", "created_to": "2026-13-01"}))
    assert set(bad) == {"amount_min", "created_to"}



async def test_excel_import(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    tag = uuid.uuid4().hex[:6]
    head = ["行键", "项目名称", "客户名称", "金额", "电话", "类型", "负责人"]
    good = [[f"{tag}-1", "导入一", f"导入{tag}甲公司", 1200.5, "13700001111", "新签", org.user("rep")],
            [f"{tag}-2", "导入二", f"导入{tag}乙公司", "300", "13700001112", "新签", org.user("rep")]]
    bad_row = [f"{tag}-3", "", f"导入{tag}丙公司", "-1", "123", "续签", "nobody"]
    data = sheet([head, *good, bad_row])

    async def post(content: bytes, **form_data: Any) -> httpx.Response:
        return await admin.post("/api/v1/imports/projects", files={"file": ("x.xlsx", content)},
                                data={"form_key": form, **{k: str(v).lower() for k, v in form_data.items()}})

    dry = await post(data, dry_run=True)
    assert dry.status_code == 200, dry.text
    d = dry.json()
    assert d["rows"] == 3 and d["invalid"] == 1 and d["created"] == 2 and d["project_ids"] == []
    assert {e["field"] for e in d["errors"]} >= {"name", "amount", "fields.phone", "fields.old_contract", "owner_id"}
    assert all(e["row"] == 4 for e in d["errors"])
    allornothing = details(await post(data))
    assert "rows[4].amount" in allornothing
    assert (await admin.get("/api/v1/projects", params={"customer": f"导入{tag}"})).json()["items"] == []
    r = await post(data, skip_invalid=True)
    assert r.json()["created"] == 2 and r.json()["invalid"] == 1
    again = await post(sheet([head, *good]))
    assert again.json()["created"] == 0 and again.json()["existing"] == 2
    items = (await admin.get("/api/v1/projects", params={"customer": f"导入{tag}"})).json()["items"]
    assert sorted(p["amount"] for p in items) == ["1200.50", "300.00"]
    assert {p["status"] for p in items} == {"active"}
    assert (await org["rep"].post("/api/v1/imports/projects", files={"file": ("x.xlsx", data)},
                                  data={"form_key": form})).status_code == 403
    garbage = details(await post(b"PK\x03\x04garbage"))
    assert set(garbage) == {"file"}
