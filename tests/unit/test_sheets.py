"""``baobei.sheets`` without a server: typed cells and formats, labels, names by uniqueness, columns
every row withholds left out, sheet titles Excel accepts, GBK CSV, the template's columns."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from google.protobuf.struct_pb2 import Struct
from openpyxl import load_workbook

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.sheets import projects, render, template
from baobei.sheets.columns import MONEY, NUMBER

FORM = pb.Form(key="std", title="标准报备", version=2, fields=[
    pb.FormField(key="budget", label="预算", type="money"),
    pb.FormField(key="seats", label="数量", type="number", min="1", max="99"),
    pb.FormField(key="day", label="签约日", type="date"),
    pb.FormField(key="sponsor", label="发起人", type="user"),
    pb.FormField(key="kind", label="类型", type="select", options=["新签", "续签"], required=True),
    pb.FormField(key="floor", label="底价", type="money", read_roles=["finance"]),
    pb.FormField(key="ok", label="已确认", type="text"),
])


def project(**over: object) -> pb.Project:
    fields = Struct()
    fields.update({"budget": "1200.50", "seats": 3, "day": "2026-12-01", "sponsor": "u1", "kind": "新签", "ok": True})
    p = pb.Project(id="p1", code="BB-1", name="甲", status=pb.PROJECT_STATUS_ACTIVE, amount="1000000.00",
                   form_key="std", form_version=2, owner_id="u2", department_id="d1", version=3,
                   customer=pb.Customer(name="甲公司"), fields=fields, **over)  # type: ignore[arg-type]
    p.created_at.FromDatetime(dt.datetime(2026, 12, 1, 1, 30, tzinfo=dt.UTC))
    return p


DIRECTORY = projects.Directory(users=projects.display_names([("u1", "张三"), ("u2", "李四"), ("u3", "李四")]),
                               departments={"d1": "销售一部"})


def test_display_names_add_the_id_to_shared_names() -> None:
    assert projects.display_names([("u1", "张三"), ("u2", "李四"), ("u3", "李四"), ("u4", "")]) == {
        "u1": "张三", "u2": "李四（u2）", "u3": "李四（u3）", "u4": "u4"}


def test_project_table_is_typed_and_labelled() -> None:
    [table] = projects.project_tables([project()], {("std", 2): FORM}, DIRECTORY, "zh")
    assert table.title == "标准报备"
    row = dict(zip([c.header for c in table.columns], table.rows[0], strict=True))
    kinds = {c.header: c.kind for c in table.columns}
    assert row["金额"] == Decimal("1000000.00") and kinds["金额"] == MONEY
    assert row["预算"] == Decimal("1200.50") and row["数量"] == Decimal("3") and kinds["数量"] == NUMBER
    assert row["签约日"] == dt.date(2026, 12, 1)
    assert row["创建时间"] == dt.datetime(2026, 12, 1, 9, 30)  # Asia/Shanghai
    assert row["状态"] == "执行中" and row["已确认"] == "是"
    assert row["发起人"] == "张三" and row["负责人"] == "李四（u2）" and row["部门"] == "销售一部" and row["版本"] == 3
    [en] = projects.project_tables([project()], {("std", 2): FORM}, DIRECTORY, "en")
    row = dict(zip([c.header for c in en.columns], en.rows[0], strict=True))
    assert row["Status"] == "Active" and row["已确认"] == "Yes" and row["Amount"] == Decimal("1000000.00")


def test_columns_every_row_withholds_are_left_out() -> None:
    hidden = project(hidden=["fields.floor", "amount"])
    shown = project()
    [table] = projects.project_tables([hidden], {("std", 2): FORM}, DIRECTORY, "zh")
    headers = [c.header for c in table.columns]
    assert "底价" not in headers and "金额" not in headers
    [table] = projects.project_tables([hidden, shown], {("std", 2): FORM}, DIRECTORY, "zh")
    assert "底价" in [c.header for c in table.columns]  # another row shows it (blank where withheld)


def test_workbook_formats_and_notes() -> None:
    tables = projects.project_tables([project()], {("std", 2): FORM}, DIRECTORY, "zh")
    info = projects.ExportInfo(dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC), "张三（u1）", {"status": "active"})
    wb = load_workbook(io.BytesIO(render.xlsx(tables, projects.notes_table(info, tables, "zh"))))
    assert wb.sheetnames == ["标准报备", "说明"]
    ws = wb["标准报备"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref.startswith("A1:")
    header = [c.value for c in ws[1]]
    cells = dict(zip(header, ws[2], strict=True))
    assert cells["金额"].number_format == "#,##0.00" and cells["金额"].value == 1000000
    assert cells["预算"].number_format == "#,##0.00" and cells["预算"].value == 1200.5  # two money cells a row
    assert cells["数量"].number_format == "#,##0" and cells["签约日"].is_date
    assert cells["创建时间"].value == dt.datetime(2026, 12, 1, 9, 30)
    notes = {r[0]: r[1] for r in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert notes["导出时间"] == dt.datetime(2026, 12, 1, 10, 0) and notes["筛选：状态"] == "执行中"


def test_sheet_titles_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert render.sheet_title("a/b:c", taken) == "a_b_c"
    assert render.sheet_title("A/B:C", taken) == "A_B_C (2)"
    assert len(render.sheet_title("长" * 40, taken)) == 31


def test_gbk_csv() -> None:
    data = render.csv_bytes(["项目名称", "金额"], [["智慧园区😀", Decimal("12.50")]], "gbk")
    assert data.decode("gbk").splitlines() == ["项目名称,金额", "智慧园区?,12.50"]
    assert render.csv_bytes(["金额"], [[Decimal("1")]]).startswith(b"\xef\xbb\xbf")


def test_template_columns() -> None:
    cols = template.template_columns(FORM, "zh", users=["张三", "u2"], departments=["销售一部"])
    titles = [c.title for c in cols]
    assert titles[:4] == ["行键", "*项目名称", "状态", "*客户名称"] and "*类型" in titles
    by = {c.header: c for c in cols}
    assert by["类型"].choices == ["新签", "续签"] and by["类型"].strict
    assert by["发起人"].choices == ["张三", "u2"] and by["负责人"].choices == ["张三", "u2"]
    assert by["数量"].number_bounds == ("1", "99") and "1 ~ 99" in by["数量"].hint
    assert template.template_csv(FORM, "en").decode("utf-8-sig").startswith("Row key,*Project name,Status")


def test_template_counts_as_an_export_not_an_upload() -> None:
    from baobei.core.settings import Settings
    from edge.guard import classify

    settings = Settings()
    get = classify(settings, "GET", "/api/v1/imports/projects/template", {}, "form_key=x")
    assert get.limits == ("exports",)
    post = classify(settings, "POST", "/api/v1/imports/projects", {"content-type": "multipart/form-data"}, "")
    assert post.limits == ("uploads",)


def test_control_characters_and_formulas_never_break_a_workbook() -> None:
    form = pb.Form(key="k", title="表\x01单", fields=[
        pb.FormField(key="x", label="=标签\x0b", type="select", options=["a\x02", "=b"])])
    wb = load_workbook(io.BytesIO(template.template_xlsx(form, "zh")))
    assert wb.sheetnames[0] == "表单" and "'=标签" in [c.value for c in wb.worksheets[0][1]]
    assert [c.value for c in wb["选项"]["B"]][1:3] == ["a", "'=b"]
    table = render.Table("t", [render.Column("h\x1f")], [["v\x00=", "=1"]])
    ws = load_workbook(io.BytesIO(render.xlsx([table]))).active
    assert [c.value for c in ws[2]] == ["v=", "'=1"] and ws["A1"].value == "h"


def test_forms_sharing_a_title_get_sheets_named_by_key() -> None:
    other = pb.Form(key="std2", title="标准报备", version=1)
    second = project()
    second.form_key, second.form_version = "std2", 1
    tables = projects.project_tables([project(), second], {("std", 2): FORM, ("std2", 1): other}, DIRECTORY, "zh")
    assert [t.title for t in tables] == ["std", "std2"]
