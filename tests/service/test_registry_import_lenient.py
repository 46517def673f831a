"""Issue 19, the import side, against a real registry server: a workbook typed the way sales
teams type it (``1,200,000.00``, ``￥350000``, ``35万``, ``138-0013-8000``, ``+86 …``, owners by
name, ``2026年12月1日``, Excel serials) imports with every normalisation reported in the dry run
and every refusal naming its column; a GBK CSV imports; ``baobei import --dry-run`` prints the
normalisations."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from openpyxl import load_workbook

from baobei.core.grpc_client import metadata, read_failure
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from cli.main import main
from tests.conftest import RunningService, StartService
from tests.sheets import xlsx as workbook

ORG = pb.UpsertOrgRequest(
    request_id="org-lenient",
    departments=[pb.Department(id="sales", name="销售部"), pb.Department(id="ops", name="运营部")],
    users=[
        pb.User(id="zhangsan", name="张三", department_id="sales", mobile="13800138000", roles=["sales"]),
        pb.User(id="liming", name="李明", department_id="sales", roles=["sales"]),
        pb.User(id="liming2", name="李明", department_id="ops", roles=["sales"]),
        pb.User(id="wangfang", name="王芳", department_id="ops", email="wangfang@example.cn", roles=["sales"]),
    ],
)
FORM = pb.PutFormRequest(
    request_id="form-lenient", key="lenient", title="报备",
    fields=[
        pb.FormField(key="phone", label="电话", type="phone"),
        pb.FormField(key="kind", label="类型", type="select", options=["新签", "续签"]),
        pb.FormField(key="due", label="截止日期", type="date"),
        pb.FormField(key="sponsor", label="发起人", type="user"),
        pb.FormField(key="budget", label="预算", type="money"),
    ],
)
HEAD = ["行键", "项目名称", "客户名称", "金额", "客户电话", "开始日期", "负责人", "电话", "类型", "发起人", "截止日期",
        "预算"]
ROWS: list[list[Any]] = [
    ["k1", "项目一", "甲公司", "1,200,000.00", "138-0013-8000", "2026年12月1日", "张三", "+86 13800138000", "新签",
     "王芳", None, "￥1,000元"],
    ["k2", "项目二", "乙公司", "￥350000", "+86 13800138000", 46357, "zhangsan", 13800138000.0, "续签 ", None,
     "2026/12/1", None],
    ["k3", "项目三", "丙公司", "35万", 13800138000, datetime(2026, 12, 1, 9, 0), "13800138000", "0086 138 0013 8000",
     None, "wangfang@example.cn", "2026-12-01 09:00", "35万元"],
    ["k4", "项目四", "丁公司", "１２００", None, None, "李明", None, None, "李明", None, None],
    ["k5", "项目五", "戊公司", "一百万", None, "2026-02-30", "赵六", "123", "其他", None, "明天", None],
]



def request(data: bytes, filename: str = "sales.xlsx", **kw: Any) -> pb.ImportProjectsRequest:
    return pb.ImportProjectsRequest(request_id=uuid.uuid4().hex, form_key="lenient", actor_id="admin",
                                    actor_is_admin=True, data=data, filename=filename, **kw)


@pytest.fixture()
def registry(start_service: StartService, tmp_path: Path) -> RunningService:
    svc = start_service("registry", attachments_dir=tmp_path)
    s = pb_grpc.RegistryServiceStub(svc.channel)
    s.UpsertOrg(ORG, timeout=10)
    s.PutForm(FORM, timeout=10)
    return svc


@pytest.fixture()
def stub(registry: RunningService) -> pb_grpc.RegistryServiceStub:
    return pb_grpc.RegistryServiceStub(registry.channel)


def test_a_sheet_typed_by_sales_imports_with_every_normalisation_reported(
        stub: pb_grpc.RegistryServiceStub) -> None:
    data = workbook([HEAD, *ROWS])
    dry = stub.ImportProjects(request(data, dry_run=True), timeout=60, metadata=metadata(locale="zh"))
    assert (dry.rows, dry.created, dry.invalid) == (5, 3, 2)
    changes = {(c.row, c.column, c.before, c.after) for c in dry.changes}
    assert all(c.kind == "normalised" for c in dry.changes)
    expected = {
        (2, "金额", "1,200,000.00", "1200000.00"), (2, "客户电话", "138-0013-8000", "13800138000"),
        (2, "开始日期", "2026年12月1日", "2026-12-01"), (2, "负责人", "张三", "zhangsan"),
        (2, "电话", "+86 13800138000", "13800138000"), (2, "发起人", "王芳", "wangfang"),
        (2, "预算", "￥1,000元", "1000.00"),
        (3, "金额", "￥350000", "350000.00"), (3, "客户电话", "+86 13800138000", "13800138000"),
        (3, "开始日期", "46357", "2026-12-01"), (3, "截止日期", "2026/12/1", "2026-12-01"),
        (4, "金额", "35万", "350000.00"), (4, "开始日期", "2026-12-01 09:00:00", "2026-12-01"),
        (4, "负责人", "13800138000", "zhangsan"), (4, "电话", "0086 138 0013 8000", "13800138000"),
        (4, "发起人", "wangfang@example.cn", "wangfang"), (4, "截止日期", "2026-12-01 09:00", "2026-12-01"),
        (4, "预算", "35万元", "350000.00"),
        (5, "金额", "１２００", "1200.00"),
    }
    assert changes == expected and dry.changes_total == len(expected)
    message = next(c.message for c in dry.changes if c.row == 2 and c.column == "金额")
    assert message == "金额 `1,200,000.00` → 1200000.00"
    # Refusals name their column; a name two people share is refused with both.
    errors = {(e.row, e.column, e.field): e.message for e in dry.errors}
    assert errors[(5, "负责人", "owner_id")] == "负责人：两位同名：李明（liming）、李明（liming2），请填写用户 ID"
    assert errors[(5, "发起人", "fields.sponsor")] == "发起人：两位同名：李明（liming）、李明（liming2），请填写用户 ID"
    assert errors[(6, "金额", "amount")] == "金额：必须是数字"
    assert errors[(6, "开始日期", "start_date")] == "开始日期：日期不存在：2026-02-30"
    assert errors[(6, "负责人", "owner_id")] == "负责人：用户 赵六 不存在"
    assert errors[(6, "截止日期", "fields.due")].startswith("截止日期：必须是日期")
    assert "手机号" in errors[(6, "电话", "fields.phone")] and "可选项" in errors[(6, "类型", "fields.kind")]
    assert {r for r, _, _ in errors} == {5, 6}
    # All or nothing: the refusal names every bad cell, nothing is stored.
    with pytest.raises(grpc.RpcError) as err:
        stub.ImportProjects(request(data), timeout=60)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in read_failure(err.value).violations} >= {"rows[5].owner_id", "rows[6].amount"}
    done = stub.ImportProjects(request(data, skip_invalid=True), timeout=60)
    assert done.created == 3 and len(done.project_ids) == 3
    got = {p.name: p for p in (stub.GetProject(pb.GetProjectRequest(project_id=i), timeout=10).project
                               for i in done.project_ids)}
    one, two, three = got["项目一"], got["项目二"], got["项目三"]
    assert (one.amount, two.amount, three.amount) == ("1200000.00", "350000.00", "350000.00")
    assert {p.customer.phone for p in (one, two, three)} == {"13800138000"}
    assert {p.start_date for p in (one, two, three)} == {"2026-12-01"}
    assert {p.owner_id for p in (one, two, three)} == {"zhangsan"} and one.department_id == "sales"
    assert one.fields["sponsor"] == "wangfang" and one.fields["budget"] == "1000.00"
    assert two.fields["phone"] == "13800138000" and two.fields["kind"] == "续签" and two.fields["due"] == "2026-12-01"
    # Idempotent: the same sheet again files nothing new.
    again = stub.ImportProjects(request(data, skip_invalid=True), timeout=60)
    assert again.created == 0 and again.existing == 3


def test_gbk_csv(stub: pb_grpc.RegistryServiceStub) -> None:
    text = "项目名称,客户名称,金额,负责人,电话,类型\n国标项目,国标客户有限公司,\"1,200\",张三,138 0013 8000,新签\n"
    for encoding in ("gbk", "utf-8-sig", "utf-8"):
        dry = stub.ImportProjects(request(text.encode(encoding), f"x-{encoding}.csv", dry_run=True), timeout=30)
        assert (dry.created, dry.invalid) == (1, 0), encoding
        assert {(c.column, c.after) for c in dry.changes} == {("金额", "1200.00"), ("负责人", "zhangsan"),
                                                              ("电话", "13800138000")}
    done = stub.ImportProjects(request(text.encode("gbk"), "x.csv"), timeout=30)
    p = stub.GetProject(pb.GetProjectRequest(project_id=done.project_ids[0]), timeout=10).project
    assert p.customer.name == "国标客户有限公司" and p.amount == "1200.00"
    with pytest.raises(grpc.RpcError) as err:
        stub.ImportProjects(request(b"\xff\xfe\x00\x81\xff\x80", "bad.csv", dry_run=True), timeout=30)
    assert [(v.field, v.zh) for v in read_failure(err.value).violations] == [
        ("file", "无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码")]


def test_cli_dry_run_prints_each_normalisation(registry: RunningService, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sales.xlsx"
    path.write_bytes(workbook([HEAD, *ROWS[:3]]))
    monkeypatch.setenv("BAOBEI_REGISTRY_ADDR", registry.addr)
    assert main(["import", str(path), "--form", "lenient", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "新建 3" in out and "第 2 行 金额 `1,200,000.00` → 1200000.00" in out
    assert "第 4 行 金额 `35万` → 350000.00" in out


def test_cli_export_imports_back_and_edits_are_checked_like_patch(
        stub: pb_grpc.RegistryServiceStub, registry: RunningService, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    stub.PutForm(pb.PutFormRequest(request_id="form-block", key="blocky", title="撞单即拒",
                                   fields=[pb.FormField(key="phone", label="电话", type="phone")],
                                   settings=pb.FormSettings(conflict_policy="block")), timeout=10)
    seed = ("项目名称,客户名称,金额,负责人,状态\n生效项目,冲突客户有限公司,100,zhangsan,已生效\n"
            "草稿项目,别的客户有限公司,200,zhangsan,草稿\n另一草稿,第三客户有限公司,300,wangfang,draft\n")
    req = pb.ImportProjectsRequest(request_id=uuid.uuid4().hex, form_key="blocky", actor_id="admin",
                                   actor_is_admin=True, data=seed.encode("gbk"), filename="seed.csv")
    assert stub.ImportProjects(req, timeout=30).created == 3
    monkeypatch.setenv("BAOBEI_REGISTRY_ADDR", registry.addr)
    out = tmp_path / "all.xlsx"
    assert main(["export", str(out)]) == 0
    assert main(["import", str(out), "--form", "blocky", "--dry-run"]) == 0
    printed = capsys.readouterr().out
    assert "新建 0" in printed and "修改 0，未变 3" in printed and "第 " not in printed
    wb = load_workbook(out)
    ws = wb.active
    head = [c.value for c in ws[1]]
    by_name = {row[head.index("项目名称")].value: row for row in ws.iter_rows(min_row=2)}
    by_name["草稿项目"][head.index("客户名称")].value = "冲突客户有限公司"
    by_name["另一草稿"][head.index("金额")].value = "2,000"
    buf = io.BytesIO()
    wb.save(buf)
    dry = stub.ImportProjects(pb.ImportProjectsRequest(
        request_id=uuid.uuid4().hex, form_key="blocky", actor_id="admin", actor_is_admin=True,
        data=buf.getvalue(), filename="edited.xlsx", dry_run=True), timeout=30)
    assert (dry.updated, dry.unchanged, dry.invalid) == (1, 1, 1)
    assert [(e.field, e.message.startswith("与已有报备撞单")) for e in dry.errors] == [("customer.name", True)]
    assert sorted((c.kind, c.column, c.before, c.after) for c in dry.changes) == [
        ("edit", "金额", "300.00", "2000.00"), ("normalised", "金额", "2,000", "2000.00")]
    path = tmp_path / "edited.xlsx"
    path.write_bytes(buf.getvalue())
    assert main(["import", str(path), "--form", "blocky", "--dry-run", "--skip-invalid"]) == 0
    printed = capsys.readouterr().out
    assert "将修改的项目字段（1）" in printed and "金额：300.00 → 2000.00" in printed and "撞单" in printed


def test_a_workbook_saved_by_libreoffice(stub: pb_grpc.RegistryServiceStub) -> None:
    """``tests/fixtures/sales_libreoffice.xlsx`` was saved by LibreOffice Calc 7.4 (its docProps
    say so): number cells with a #,##0.00 format, a formula (=35*10000) stored with its value,
    date and datetime cells, Excel serials, and text typed as in the sheet above."""
    data = (Path(__file__).parents[1] / "fixtures" / "sales_libreoffice.xlsx").read_bytes()
    assert b"LibreOffice" in zipfile.ZipFile(io.BytesIO(data)).read("docProps/app.xml")
    dry = stub.ImportProjects(request(data, "lo.xlsx", dry_run=True), timeout=30)
    assert (dry.rows, dry.created, dry.invalid) == (3, 3, 0), dry.errors
    assert {(c.row, c.column, c.before, c.after) for c in dry.changes} == {
        (2, "负责人", "张三", "zhangsan"), (2, "电话", "+86 13800138000", "13800138000"),
        (2, "截止日期", "2026/12/1", "2026-12-01"),
        (3, "客户电话", "138-0013-8000", "13800138000"), (3, "开始日期", "2026年12月1日", "2026-12-01"),
        (3, "截止日期", "46357", "2026-12-01"),
        (4, "金额", "￥350000", "350000.00"), (4, "客户电话", "0086 138 0013 8000", "13800138000"),
        (4, "开始日期", "46357", "2026-12-01"), (4, "负责人", "13800138000", "zhangsan"),
        (4, "截止日期", "2026-12-01 09:00:00", "2026-12-01"),
    }
    done = stub.ImportProjects(request(data, "lo.xlsx"), timeout=30)
    got = [stub.GetProject(pb.GetProjectRequest(project_id=i), timeout=10).project for i in done.project_ids]
    assert sorted(p.amount for p in got) == ["1200000.00", "350000.00", "350000.00"]  # the formula's value
    assert {(p.start_date, p.customer.phone, p.owner_id, p.fields["due"]) for p in got} == {
        ("2026-12-01", "13800138000", "zhangsan", "2026-12-01")}
