"""``baobei import`` / ``baobei export`` against a registry server (BAOBEI_REGISTRY_ADDR)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from cli.main import main
from tests.conftest import StartService
from tests.service.test_registry_service import FORM, ORG


def test_import_then_export(start_service: StartService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    svc = start_service("registry", attachments_dir=tmp_path)
    ch, port = svc.channel, svc.port
    stub = pb_grpc.RegistryServiceStub(ch)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(FORM, timeout=10)
    monkeypatch.setenv("BAOBEI_REGISTRY_ADDR", f"127.0.0.1:{port}")
    sheet = tmp_path / "in.csv"
    sheet.write_text("行键,项目名称,客户名称,金额,行业,底价,负责人\n"
                     "k1,甲项目,甲公司,100,制造,5.00,sales1\n"
                     "k2,乙项目,乙公司,abc,金融,,sales1\n", encoding="utf-8")
    assert main(["import", str(sheet), "--form", "standard", "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "试运行" in out and "第 3 行 金额" in out
    assert main(["import", str(sheet), "--form", "standard"]) == 1  # all or nothing
    assert main(["import", str(sheet), "--form", "standard", "--skip-invalid"]) == 0
    assert "新建 1" in capsys.readouterr().out
    assert main(["import", str(sheet), "--form", "standard", "--skip-invalid"]) == 0
    assert "已存在 1" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "all.xlsx")]) == 0
    wb = load_workbook(tmp_path / "all.xlsx")
    assert wb.sheetnames == ["标准报备", "说明"]  # a sheet per form (by its title), then the notes
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 2 and "底价" in rows[0]
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["负责人"] == "销售一" and row["部门"] == "上海一组" and row["状态"] == "执行中"  # names and labels
    assert row["金额"] == 100 and row["底价"] == 5
    # sales2 sees nothing of sales1's (not owner, not manager); mgr_sh sees it without the finance-only field.
    assert main(["export", str(tmp_path / "m.csv"), "--user", "mgr_sh"]) == 0
    got = list(csv.reader(io.StringIO((tmp_path / "m.csv").read_text(encoding="utf-8-sig"))))
    assert len(got) == 2 and "底价" not in got[0] and "行业" in got[0]


def test_export_neutralises_formula_cells(start_service: StartService, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A project named like a formula is exported as text (CSV and XLSX); amounts stay as they are."""
    svc = start_service("registry", attachments_dir=tmp_path)
    ch, port = svc.channel, svc.port
    stub = pb_grpc.RegistryServiceStub(ch)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(FORM, timeout=10)
    monkeypatch.setenv("BAOBEI_REGISTRY_ADDR", f"127.0.0.1:{port}")
    sheet = tmp_path / "in.csv"
    sheet.write_text("行键,项目名称,客户名称,金额,行业,负责人\n"
                     'k1,"=HYPERLINK(""http://x"",""点我"")",@某某科技有限公司,100,制造,sales1\n', encoding="utf-8")
    assert main(["import", str(sheet), "--form", "standard"]) == 0
    assert main(["export", str(tmp_path / "all.csv")]) == 0
    assert main(["export", str(tmp_path / "all.xlsx")]) == 0
    got = list(csv.reader(io.StringIO((tmp_path / "all.csv").read_text(encoding="utf-8-sig"))))
    ws = load_workbook(tmp_path / "all.xlsx").active
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    cells = next(ws.iter_rows(min_row=2, values_only=True))
    for row in (got[1], [str(v) for v in cells]):
        assert "'=HYPERLINK(\"http://x\",\"点我\")" in row and "'@某某科技有限公司" in row
    assert "100.00" in got[1] and 100 in cells  # CSV: plain decimal text; XLSX: a number
