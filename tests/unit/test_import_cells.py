"""Cells as sales teams type them (issue 19): every lenient form is read, every cleaning is
reported (``changed``), and what cannot be read is refused with the field named; a sheet row read
whole (``domain.imports.read_row``), the edit a coded row makes, and GBK CSV detection."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.registry import excel
from services.registry.domain import Customer, Project, Status, cells
from services.registry.domain import imports as rules
from services.registry.domain.cells import Directory, Read
from services.registry.domain.org import Department, User
from services.registry.forms import FormDef, FormField


@pytest.mark.parametrize(("cell", "value", "changed"), [
    ("1,200,000.00", "1200000.00", True),
    ("￥350000", "350000.00", True),
    ("¥ 350,000", "350000.00", True),
    ("350000元", "350000.00", True),
    ("￥1,000元", "1000.00", True),
    ("RMB 5000", "5000.00", True),
    ("rmb5000", "5000.00", True),
    ("35万", "350000.00", True),
    ("35万元", "350000.00", True),
    ("1.5万", "15000.00", True),
    ("１２００．５", "1200.50", True),  # full-width digits
    ("300", "300.00", False),  # a plain number is no change
    ("1200.5", "1200.50", False),
    (1200.5, "1200.50", False),  # an Excel number
    (300, "300.00", False),
    (Decimal("12.30"), "12.30", False),
    ("1.234", "1.234", False),  # too many places: left for validation to refuse, never rounded
])
def test_amounts(cell: Any, value: str, changed: bool) -> None:
    assert cells.number(cell, places=2) == Read(value, changed=changed)


@pytest.mark.parametrize("cell", ["abc", "12,34", "1,2345.00", "￥", "万", "1.2.3", True])
def test_amounts_refused(cell: Any) -> None:
    got = cells.number(cell, places=2)
    assert got.value is None and got.problem == ("必须是数字", "must be a number")


def test_plain_numbers() -> None:
    assert cells.number("12.50") == Read("12.5")
    assert cells.number(12.0) == Read("12")
    assert cells.number("1,000") == Read("1000", changed=True)
    assert cells.number("") == Read() and cells.number(None) == Read()


@pytest.mark.parametrize(("cell", "value", "changed"), [
    ("138-0013-8000", "13800138000", True),
    ("138 0013 8000", "13800138000", True),
    ("+86 13800138000", "13800138000", True),
    ("+86-138-0013-8000", "13800138000", True),
    ("0086 138 0013 8000", "13800138000", True),
    ("8613800138000", "13800138000", True),
    ("１３８００１３８０００", "13800138000", True),
    ("(138)00138000", "13800138000", True),
    (13800138000.0, "13800138000", False),  # a number cell: its digits
    (13800138000, "13800138000", False),
    ("13800138000", "13800138000", False),
    ("12345", "12345", False),  # not a mobile: the validator refuses it
])
def test_mobiles(cell: Any, value: str, changed: bool) -> None:
    assert cells.mobile(cell) == Read(value, changed=changed)


@pytest.mark.parametrize(("cell", "value", "changed"), [
    (46357, "2026-12-01", True),  # an Excel serial
    (46357.375, "2026-12-01", True),
    ("46357", "2026-12-01", True),  # a serial that lost its format in a CSV
    ("2026/12/1", "2026-12-01", True),
    ("2026.12.01", "2026-12-01", True),
    ("2026-12-1", "2026-12-01", True),
    ("2026年12月1日", "2026-12-01", True),
    ("2026 年 12 月 1 日", "2026-12-01", True),
    ("2026-12-01 09:00", "2026-12-01", True),
    ("2026/12/1 9:00:00", "2026-12-01", True),
    ("2026-12-01T09:00:00", "2026-12-01", True),
    ("２０２６－１２－０１", "2026-12-01", True),
    (datetime(2026, 12, 1), "2026-12-01", False),  # a date cell
    (datetime(2026, 12, 1, 9, 0), "2026-12-01", True),  # the time is dropped: reported
    (date(2026, 12, 1), "2026-12-01", False),
    ("2026-12-01", "2026-12-01", False),
])
def test_dates(cell: Any, value: str, changed: bool) -> None:
    assert cells.day(cell) == Read(value, changed=changed)


@pytest.mark.parametrize(("cell", "zh"), [
    ("2026-02-30", "日期不存在：2026-02-30"),
    ("next monday", "必须是日期（如 2026-12-01、2026/12/1、2026年12月1日）"),
    (-3, "必须是日期（数字超出 Excel 日期范围）"),
    (9999999, "必须是日期（数字超出 Excel 日期范围）"),
])
def test_dates_refused(cell: Any, zh: str) -> None:
    got = cells.day(cell)
    assert got.value is None and got.problem is not None and got.problem[0] == zh


def test_text_options_codes() -> None:
    assert cells.text("  华东 ") == Read("华东")  # trimming is not reported
    assert cells.text(12.0) == Read("12")
    assert cells.code("９１３５０１００Ｍ０００１００Ｙ４３") == Read("91350100M000100Y43", changed=True)
    assert cells.code("a@b.cn") == Read("a@b.cn")
    opts = ("新签", "续签", "Renewal")
    assert cells.option("新签", opts) == Read("新签")
    assert cells.option("renewal", opts) == Read("Renewal", changed=True)
    assert cells.option("ＲＥＮＥＷＡＬ ", opts) == Read("Renewal", changed=True)
    assert cells.option("其他", opts) == Read("其他")  # left for the validator to refuse
    assert cells.options("新签、renewal", opts) == Read(["新签", "Renewal"], changed=True)
    assert cells.options("新签,续签；Renewal", opts) == Read(["新签", "续签", "Renewal"])
    assert cells.half_width("Ａ１　，") == "A1 ,"


DIRECTORY = Directory.of(
    [User("zhangsan", "张三", mobile="13800138000", email="zs@example.cn"),
     User("zhangsan2", "张三", mobile="13900139000"),
     User("lisi", "李四", email="LiSi@Example.cn"),
     User("wangwu", "王五"), User("wangwu-old", "王五", left=True)],
    [Department("d1", "销售一部"), Department("d2", "销售二部"), Department("d3", "销售二部")],
)


@pytest.mark.parametrize(("cell", "value", "changed"), [
    ("lisi", "lisi", False),  # by id
    ("李四", "lisi", True),  # by a unique name
    ("lisi@example.cn", "lisi", True),  # by e-mail, any case
    ("13800138000", "zhangsan", True),  # by mobile
    ("+86 138-0013-8000", "zhangsan", True),
    (13900139000.0, "zhangsan2", True),
    ("张三（zhangsan2）", "zhangsan2", True),  # name and id, as templates write them
    ("张三(zhangsan)", "zhangsan", True),
    ("王五", "wangwu", True),  # who left does not make a current name ambiguous
])
def test_users(cell: Any, value: str, changed: bool) -> None:
    assert DIRECTORY.user(cell) == Read(value, changed=changed)


def test_users_refused() -> None:
    dup = DIRECTORY.user("张三")
    assert dup.problem == ("两位同名：张三（zhangsan）、张三（zhangsan2），请填写用户 ID",
                           "2 users match: 张三（zhangsan）、张三（zhangsan2）; give the user id")
    assert DIRECTORY.user("赵六").problem == ("用户 赵六 不存在", "unknown user 赵六")
    assert DIRECTORY.user("李四（zhangsan）").problem is not None  # name and id disagree
    # The value already stored wins whenever the cell names it (an exported row reads back).
    assert DIRECTORY.user("张三", prefer="zhangsan2") == Read("zhangsan2")
    assert DIRECTORY.user("zhangsan2", prefer="zhangsan2") == Read("zhangsan2")


def test_departments() -> None:
    assert DIRECTORY.department("d1") == Read("d1")
    assert DIRECTORY.department("销售一部") == Read("d1", changed=True)
    assert DIRECTORY.department("销售二部").problem is not None
    assert DIRECTORY.department("销售二部", prefer="d3") == Read("d3")
    # As an export writes a department whose name is not unique: the stored one, unreported.
    assert DIRECTORY.department("销售二部（d3）", prefer="d3") == Read("d3")
    assert DIRECTORY.department("销售二部（d3）") == Read("d3", changed=True)
    assert DIRECTORY.department("不存在").problem == ("部门 不存在 不存在", "unknown department 不存在")


FORM = FormDef(key="f", title="报备", fields=(
    FormField("phone", "电话", "phone"), FormField("kind", "类型", "select", options=("新签", "续签")),
    FormField("tags", "标签", "multiselect", options=("A", "B")), FormField("due", "截止", "date"),
    FormField("margin", "毛利", "money"), FormField("count", "人数", "number"),
    FormField("sales", "销售", "user"), FormField("dept", "部门字段", "department"),
    FormField("doc", "附件", "attachment"),
))
HEADERS = {"amount": "金额", "fields.phone": "电话", "owner_id": "负责人", "start_date": "开始日期",
           "fields.sales": "销售", "fields.due": "截止"}


def test_read_row_reports_each_normalisation_and_names_each_refusal() -> None:
    raw = {"name": " 项目 ", "amount": "1,200,000.00", "fields.phone": "+86 13800138000", "owner_id": "李四",
           "start_date": "2026年12月1日", "fields.due": 46357, "fields.sales": "张三", "status": "草稿",
           "fields.tags": "A、B", "code": "", "created_at": "2026-01-01", "department_id": "销售一部"}
    read = rules.read_row(FORM, DIRECTORY, 3, raw, HEADERS, actor_id="admin")
    assert [(c.column, c.before, c.after) for c in read.changes] == [
        ("金额", "1,200,000.00", "1200000.00"), ("电话", "+86 13800138000", "13800138000"),
        ("负责人", "李四", "lisi"), ("开始日期", "2026年12月1日", "2026-12-01"), ("截止", "46357", "2026-12-01"),
    ]
    assert read.changes[0].text("zh") == "金额 `1,200,000.00` → 1200000.00"
    assert [(v.field, v.zh) for v in read.problems] == [
        ("fields.sales", "销售：两位同名：张三（zhangsan）、张三（zhangsan2），请填写用户 ID")]
    assert read.owner_id == "lisi" and read.status is Status.DRAFT
    inp = rules.read_input(FORM, read)
    assert inp.amount == "1200000.00" and inp.name == "项目" and inp.start_date == "2026-12-01"
    assert inp.fields == {"phone": "13800138000", "due": "2026-12-01", "tags": ["A", "B"]}
    assert "department_id" not in read.values and "created_at" not in read.values  # read-only


def test_status_labels() -> None:
    for text, status in (("草稿", Status.DRAFT), ("已生效", Status.ACTIVE), ("执行中", Status.ACTIVE),
                         ("Active", Status.ACTIVE), ("pending_approval", Status.PENDING_APPROVAL),
                         ("Pending approval", Status.PENDING_APPROVAL), ("审批中", Status.PENDING_APPROVAL),
                         ("已关闭", Status.CLOSED), ("Withdrawn", Status.CANCELLED)):
        assert rules.status_of(text) is status, text
    assert rules.row_status({"status": "审批中"}) is None  # an import files draft, active or closed only
    assert rules.row_status({}) is Status.ACTIVE


def _project(status: Status = Status.DRAFT, **fields: Any) -> Project:
    now = datetime(2026, 1, 1)
    return Project(
        id="p1", code="BB-2026-000001", status=status, name="项目", customer=Customer("客户", phone="13800138000"),
        amount=Decimal("1000.00"), region="华东", business_line="", start_date=date(2026, 12, 1), end_date=None,
        fields=fields, form_key="f", form_version=1, owner_id="zhangsan2", department_id="d1", conflicts=[],
        history=[], version=3, created_at=now, updated_at=now,
    )


def test_an_exported_row_reads_back_unchanged() -> None:
    current = _project(margin="7.00", count=12, tags=["A"], sales="zhangsan", doc=["sha256:x"], due="2026-12-01")
    # As an export writes it: numbers as numbers, dates as date cells, owner by name, labels.
    raw = {"code": "bb-2026-000001", "version": 3, "name": "项目", "customer.name": "客户",
           "customer.phone": 13800138000.0, "amount": 1000.0, "region": "华东", "business_line": "",
           "start_date": datetime(2026, 12, 1), "end_date": None, "owner_id": "张三", "status": "已生效",
           "fields.margin": 7, "fields.count": "12", "fields.tags": "A", "fields.sales": "张三（zhangsan）",
           "fields.doc": "sha256:x", "fields.due": datetime(2026, 12, 1), "fields.phone": ""}
    read = rules.read_row(FORM, DIRECTORY, 2, raw, {}, actor_id="admin", current=current)
    assert read.code == "BB-2026-000001" and read.version == 3 and not read.problems
    changes, edits = rules.row_edits(FORM, current, read, 2, {})
    assert changes == {} and edits == []
    assert rules.edit_refusals(current, read, edits=False, actor_id="admin", actor_is_admin=True) == []


def test_a_coded_row_edits_only_what_differs_and_says_why_it_may_not() -> None:
    current = _project(margin="7.00", tags=["A"])
    raw = {"code": "BB-2026-000001", "version": 3, "amount": "1,500", "fields.tags": "A、B", "region": "华东",
           "customer.phone": "", "fields.margin": "7"}
    read = rules.read_row(FORM, DIRECTORY, 2, raw, {"amount": "金额"}, actor_id="admin", current=current)
    changes, edits = rules.row_edits(FORM, current, read, 2, {"amount": "金额"})
    assert changes == {"amount": "1500.00", "fields": {"tags": ["A", "B"]}, "customer": {"phone": ""}}
    assert [(e.field, e.before, e.after) for e in edits] == [
        ("amount", "1000.00", "1500.00"), ("fields.tags", "A", "A、B"), ("customer.phone", "13800138000", "")]
    assert edits[0].text("zh") == "金额：1000.00 → 1500.00"
    assert rules.edit_refusals(current, read, edits=True, actor_id="admin", actor_is_admin=True) == []
    active = _project(Status.ACTIVE)
    why = rules.edit_refusals(active, read, edits=True, actor_id="admin", actor_is_admin=True)
    assert [(v.field, v.zh) for v in why] == [
        ("code", "项目 BB-2026-000001 已生效，只有草稿或退回的项目可以通过导入修改")]
    stale = rules.read_row(FORM, DIRECTORY, 2, {**raw, "version": 2}, {}, actor_id="admin", current=current)
    why = rules.edit_refusals(current, stale, edits=True, actor_id="admin", actor_is_admin=True)
    assert [v.field for v in why] == ["version"] and "当前版本 3，表中版本 2" in why[0].zh
    moved = rules.read_row(FORM, DIRECTORY, 2, {**raw, "owner_id": "李四"}, {}, actor_id="admin", current=current)
    why = rules.edit_refusals(current, moved, edits=True, actor_id="admin", actor_is_admin=True)
    assert [v.field for v in why] == ["owner_id"]
    why = rules.edit_refusals(current, read, edits=True, actor_id="lisi", actor_is_admin=False)
    assert [v.field for v in why] == ["code"] and "所有者" in why[0].zh


def test_csv_encodings() -> None:
    form = FormDef(key="f", title="t", fields=(FormField("phone", "电话", "phone"),))
    text = "项目名称,客户名称,金额,电话\n项目一,甲公司,\"1,200\",138-0013-8000\n"
    for data in (text.encode("utf-8"), ("\ufeff" + text).encode("utf-8"), text.encode("gbk"),
                 text.encode("gb18030")):
        sheet, problems = excel.read_sheet(data, "x.csv", form)
        assert not problems and sheet is not None
        assert sheet.rows[0][1]["customer.name"] == "甲公司" and sheet.rows[0][1]["amount"] == "1,200"
    sheet, problems = excel.read_sheet(b"\xff\xfe\x00\x81\xff", "x.csv", form)
    assert sheet is None and [(p.field, p.zh) for p in problems] == [
        ("file", "无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码")]


def test_headers_of_exports_and_templates() -> None:
    form = FormDef(key="f", title="t", fields=(FormField("phone", "电话", "phone"),))
    head = "项目编号,版本,项目名称*,状态,部门,表单,创建时间,金额（必填）,电话,Owner\n"
    sheet, problems = excel.read_sheet(head.encode(), "x.csv", form)
    assert not problems and sheet is not None
    assert sheet.columns == ["code", "version", "name", "status", "department_id", "form_key", "created_at",
                             "amount", "fields.phone", "owner_id"]


def test_the_sheet_of_the_form_is_read() -> None:
    from openpyxl import Workbook

    form = FormDef(key="deals", title="大单报备", fields=(FormField("phone", "电话", "phone"),))
    wb = Workbook()
    wb.active.title = "说明"
    wb.active.append(["导出时间", "2026-12-01"])
    wb.create_sheet("其他表单").append(["项目名称"])
    wb.create_sheet("大单报备").append(["项目名称", "电话"])
    wb["大单报备"].append(["甲", "138 0013 8000"])
    buf = io.BytesIO()
    wb.save(buf)
    sheet, problems = excel.read_sheet(buf.getvalue(), "x.xlsx", form)
    assert not problems and sheet is not None and sheet.rows == [(2, {"name": "甲", "fields.phone": "138 0013 8000"})]
    del wb["大单报备"]
    buf = io.BytesIO()
    wb.save(buf)
    sheet, _ = excel.read_sheet(buf.getvalue(), "x.xlsx", form)
    assert sheet is not None and sheet.columns == ["name"]  # the first data sheet, never 说明


def test_form_fields_keep_their_keys_over_read_only_columns() -> None:
    form = FormDef(key="f", title="t", fields=(FormField("code", "合同编号"), FormField("version", "软件版本")))
    sheet, problems = excel.read_sheet("code,version,项目编号,版本,created_at\n".encode(), "x.csv", form)
    assert not problems and sheet is not None
    assert sheet.columns == ["fields.code", "fields.version", "code", "version", "created_at"]
