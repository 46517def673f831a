"""Excel as people use it (issue 19): exports with real numbers, dates and labels, a sheet per form
and a notes sheet; CSV in UTF-8 (BOM) or GBK; the per-form import template with required marks,
drop-downs (options, people, departments from the directory), hints and an example row."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tests.edge.conftest import Org
from tests.policies import no_approval_policy

pytestmark = pytest.mark.asyncio(loop_scope="session")
EN = {"Accept-Language": "en"}


def form_a(title: str) -> dict[str, Any]:
    return {"title": title, "fields": [
        {"key": "margin", "label": "毛利", "type": "money"},
        {"key": "seats", "label": "数量", "type": "number", "min": "1", "max": "1000"},
        {"key": "signed", "label": "签约日", "type": "date"},
        {"key": "kind", "label": "类型", "type": "select", "options": ["新签", "续签"], "required": True},
        {"key": "tags", "label": "标签", "type": "multiselect", "options": ["政府", "教育", "医疗"]},
        {"key": "helper", "label": "协作人", "type": "user"},
        {"key": "unit", "label": "所属部门", "type": "department"},
        {"key": "secret", "label": "机密", "type": "text", "read_roles": ["finance"]},
    ]}


async def setup(admin: httpx.AsyncClient, org: Org) -> dict[str, str]:
    tag = uuid.uuid4().hex[:6]
    helper = f"exp-{org.run}-{tag}"
    r = await admin.put("/api/v1/org", json={"users": [
        {"id": helper, "name": f"协作{tag}", "department_id": org.dept, "roles": ["sales"]},
        *({"id": f"{helper}-twin{n}", "name": f"同名{tag}", "department_id": org.dept, "roles": ["sales"]}
          for n in (1, 2))]})
    assert r.status_code == 200, r.text
    keys = {"a": f"xa-{org.run}-{tag}", "b": f"xb-{org.run}-{tag}"}
    titles = {"a": f"甲表{tag}", "b": f"乙表{tag}"}
    for k, body in (("a", form_a(titles["a"])),
                    ("b", {"title": titles["b"], "fields": [{"key": "note", "label": "备注", "type": "text"},
                                                    {"key": "who", "label": "对接人", "type": "user"}]})):
        assert (await admin.put(f"/api/v1/forms/{keys[k]}", json=body)).status_code == 200
        assert (await admin.put(**no_approval_policy(keys[k]))).status_code == 200
    return {"tag": tag, "helper": helper, "helper_name": f"协作{tag}", **{f"key_{k}": v for k, v in keys.items()},
            **{f"title_{k}": v for k, v in titles.items()}}


def project(form: str, customer: str, **over: Any) -> dict[str, Any]:
    return {"form_key": form, "name": f"项目{uuid.uuid4().hex[:6]}", "customer": {"name": customer},
            "amount": "1234567.80", **over}


def book(r: httpx.Response) -> Workbook:
    assert r.status_code == 200, r.text
    return load_workbook(io.BytesIO(r.content))


def records(ws: Worksheet) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and rows as dicts of the cells themselves (value, type and format)."""
    rows = list(ws.iter_rows())
    header = [str(c.value) for c in rows[0]]
    return header, [dict(zip(header, row, strict=True)) for row in rows[1:]]


async def test_export_is_typed_labelled_and_split_per_form(admin: httpx.AsyncClient, org: Org) -> None:
    s = await setup(admin, org)
    rep = org["rep"]
    customer = f"导出{s['tag']}有限公司"
    r = await rep.post("/api/v1/projects", json=project(s["key_b"], customer, fields={
        "note": "=1+1", "who": f"{s['helper']}-twin1"}))
    assert r.status_code == 201, r.text
    r = await rep.post("/api/v1/projects", json=project(s["key_a"], customer, start_date="2026-12-01", fields={
        "margin": "1200.5", "seats": 12, "signed": "2026-11-30", "kind": "新签", "tags": ["政府", "医疗"],
        "helper": s["helper"], "unit": org.dept, "secret": "绝密"}))
    assert r.status_code == 201, r.text
    code = r.json()["code"]

    wb = book(await rep.get("/api/v1/exports/projects", params={"customer": customer}))
    assert wb.sheetnames == [s["title_a"], s["title_b"], "说明"]  # newest project's form first
    ws = wb[s["title_a"]]
    assert wb.active.title == s["title_a"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}2"
    assert ws.column_dimensions["A"].width > 8
    header, rows = records(ws)
    assert header[:2] == ["项目编号", "项目名称"] and "版本" in header and "创建时间" in header
    assert "备注" not in header  # form B's field lives on form B's sheet
    row = rows[0]
    assert row["项目编号"].value == code
    assert row["金额"].value == pytest.approx(1234567.8) and row["金额"].number_format == "#,##0.00"
    assert row["毛利"].data_type == "n" and row["毛利"].number_format == "#,##0.00"
    assert row["数量"].value == 12 and row["数量"].number_format == "#,##0"
    assert row["签约日"].is_date and row["签约日"].value == dt.datetime(2026, 11, 30)
    assert row["开始日期"].is_date and row["开始日期"].value.date() == dt.date(2026, 12, 1)
    created = row["创建时间"]
    assert created.is_date and isinstance(created.value, dt.datetime) and created.number_format == "yyyy-mm-dd hh:mm:ss"
    # Asia/Shanghai wall time: the API's UTC timestamp plus 8 hours.
    got = (await rep.get("/api/v1/projects", params={"customer": customer, "form_key": s["key_a"]})).json()["items"][0]
    utc = dt.datetime.fromisoformat(got["created_at"].replace("Z", "+00:00"))
    assert created.value == (utc + dt.timedelta(hours=8)).replace(tzinfo=None, microsecond=0)
    assert row["状态"].value == "草稿" and row["类型"].value == "新签" and row["标签"].value == "政府、医疗"
    assert row["协作人"].value == s["helper_name"]  # a unique name: the name
    assert row["负责人"].value in ("销售甲", f"销售甲（{org.user('rep')}）")  # the id too if another org has one
    assert row["版本"].value == 1 and row["表单"].value == s["key_a"]
    assert row["机密"].value == "绝密"  # the owner reads every field
    _, rows_b = records(wb[s["title_b"]])
    assert rows_b[0]["备注"].value == "'=1+1" and rows_b[0]["备注"].data_type == "s"  # no formula
    assert rows_b[0]["对接人"].value == f"同名{s['tag']}（{s['helper']}-twin1）"  # a shared name: with the id
    notes = {str(r[0]): r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert isinstance(notes["导出时间"], dt.datetime) and org.user("rep") in str(notes["导出人"])
    assert notes["筛选：客户"] == customer
    assert notes[f"工作表 {s['title_a']}"] == "1 行"

    # The department's manager may not read 机密: its column is not there at all.
    header, _ = records(book(await org["boss"].get(
        "/api/v1/exports/projects", params={"customer": customer, "form_key": s["key_a"]})).worksheets[0])
    assert "机密" not in header and "毛利" in header

    en = book(await rep.get("/api/v1/exports/projects", params={"customer": customer}, headers=EN))
    assert en.sheetnames[-1] == "Notes"
    header, rows = records(en[s["title_a"]])
    assert {"Project code", "Amount", "Status", "Created at"} <= set(header)
    assert rows[0]["Status"].value == "Draft" and rows[0]["Amount"].number_format == "#,##0.00"


async def test_csv_export_utf8_bom_or_gbk(admin: httpx.AsyncClient, org: Org) -> None:
    s = await setup(admin, org)
    customer = f"编码{s['tag']}有限公司"
    r = await org["rep"].post("/api/v1/projects", json=project(s["key_a"], customer, fields={
        "margin": "9.5", "kind": "续签", "signed": "2026-01-02"}))
    assert r.status_code == 201, r.text
    utf8 = await org["rep"].get("/api/v1/exports/projects", params={"customer": customer, "format": "csv"})
    assert utf8.status_code == 200 and utf8.content.startswith(b"\xef\xbb\xbf")
    assert utf8.headers["content-type"].startswith("text/csv") and "utf-8" in utf8.headers["content-type"]
    gbk = await org["rep"].get("/api/v1/exports/projects",
                               params={"customer": customer, "format": "csv", "encoding": "gbk"})
    assert gbk.status_code == 200, gbk.text
    assert "gbk" in gbk.headers["content-type"] and not gbk.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(gbk.content.decode("gbk"))))
    assert rows == list(csv.reader(io.StringIO(utf8.content.decode("utf-8-sig"))))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["客户名称"] == customer and row["状态"] == "草稿" and row["类型"] == "续签"
    assert row["金额"] == "1234567.80" and row["毛利"] == "9.50" and row["签约日"] == "2026-01-02"
    bad = await org["rep"].get("/api/v1/exports/projects", params={"format": "csv", "encoding": "latin1"})
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "encoding"


async def test_import_template(admin: httpx.AsyncClient, org: Org) -> None:
    s = await setup(admin, org)
    r = await admin.get("/api/v1/imports/projects/template", params={"form_key": s["key_a"]})
    wb = book(r)
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert wb.sheetnames == [s["title_a"], "示例", "填写说明", "选项"]
    assert wb["选项"].sheet_state == "hidden" and wb.active.title == s["title_a"]
    ws = wb[s["title_a"]]
    header = [c.value for c in ws[1]]
    assert header == ["行键", "*项目名称", "状态", "*客户名称", "统一社会信用代码", "联系人", "客户电话", "*金额",
                      "区域", "业务线", "开始日期", "结束日期", "负责人",
                      "毛利", "数量", "签约日", "*类型", "标签", "协作人", "所属部门", "机密"]
    assert ws.max_row == 1 and ws.freeze_panes == "A2"  # the sheet the import reads starts empty
    col = {h: i + 1 for i, h in enumerate(header)}
    required = ws.cell(1, col["*金额"])
    assert required.font.color.rgb.endswith("C00000") and "必填" in required.comment.text
    assert "1,200,000.00" in required.comment.text
    assert ws.cell(1, col["数量"]).comment.text.count("1000") == 1  # the range hint
    assert ws.column_dimensions[required.column_letter].number_format == "#,##0.00"

    lists = wb["选项"]
    columns = {c[0].value: [x.value for x in c[1:] if x.value is not None] for c in lists.iter_cols()}
    assert columns["类型"] == ["新签", "续签"] and columns["状态"] == ["草稿", "执行中", "已关闭"]
    assert s["helper_name"] in columns["协作人"]
    assert {f"同名{s['tag']}（{s['helper']}-twin{n}）" for n in (1, 2)} <= set(columns["负责人"])  # with ids
    assert "销售一部" in columns["所属部门"] or f"销售一部（{org.dept}）" in columns["所属部门"]
    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}

    def dv_of(h: str) -> Any:
        letter = ws.cell(1, col[h]).column_letter
        return dvs[f"{letter}2:{letter}2001"]

    kind = dv_of("*类型")
    assert kind.type == "list" and kind.formula1.startswith("'选项'!$") and kind.errorStyle == "stop"
    assert dv_of("协作人").type == "list" and dv_of("协作人").errorStyle == "warning"
    assert dv_of("所属部门").type == "list" and dv_of("负责人").type == "list"
    assert dv_of("*金额").type == "decimal" and "两位小数" in dv_of("*金额").prompt
    assert (dv_of("数量").formula1, dv_of("数量").formula2) == ("1", "1000")
    assert dv_of("签约日").type == "date" and "2026-12-01" in dv_of("签约日").prompt

    example = dict(zip(header, next(wb["示例"].iter_rows(min_row=2)), strict=True))
    assert example["*金额"].value == 1200000 and example["*金额"].number_format == "#,##0.00"
    assert example["签约日"].is_date and example["*类型"].value == "新签" and example["状态"].value == "执行中"
    assert example["协作人"].value in columns["协作人"]

    en = book(await admin.get("/api/v1/imports/projects/template", params={"form_key": s["key_a"]}, headers=EN))
    assert [c.value for c in en.worksheets[0][1]][:4] == ["Row key", "*Project name", "Status", "*Customer name"]

    for encoding, decode in (("utf-8", "utf-8-sig"), ("gbk", "gbk")):
        r = await admin.get("/api/v1/imports/projects/template",
                            params={"form_key": s["key_a"], "format": "csv", "encoding": encoding})
        assert r.status_code == 200 and encoding in r.headers["content-type"]
        assert r.content.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8")
        assert next(csv.reader(io.StringIO(r.content.decode(decode)))) == header

    missing = await admin.get("/api/v1/imports/projects/template", params={"form_key": f"nope-{s['tag']}"})
    assert missing.status_code == 404, missing.text
    err = missing.json()["error"]
    assert err["code"] == "form_not_found" and err["details"][0]["field"] == "form_key"
    empty = await admin.get("/api/v1/imports/projects/template")
    assert empty.status_code == 422 and empty.json()["error"]["details"][0]["field"] == "form_key"
    denied = await org["rep"].get("/api/v1/imports/projects/template", params={"form_key": s["key_a"]})
    assert denied.status_code == 403

