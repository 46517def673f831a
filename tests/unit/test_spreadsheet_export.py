"""Exports cannot carry live formulas (CSV/formula injection): every CSV and XLSX writer — the
registry project export (API and CLI) and the report tables — goes through one helper; text
cells starting with = + - @ tab CR (or full-width ＝＋－＠) become literal text, numbers stay
numbers."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from baobei.core.spreadsheet import safe_cell
from baobei.sheets import render
from edge.routes.reports_render import TableData, csv_response, xlsx_response

EVIL = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1",
        "＝1+1", "＋1", "－1", "＠A1"]


@pytest.mark.parametrize("value", EVIL)
def test_formula_starts_become_text(value: str) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [12, -12, 3.5, -0.25, Decimal("-7.10"), None, True, "-12.50", "+3", "0", "",
                                   "智慧园区", "a=b", "BB-2026-000001"])
def test_numbers_and_plain_text_are_unchanged(value: Any) -> None:
    assert safe_cell(value) == value


def _xlsx_values(data: bytes) -> list[list[Any]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)  # no formula stored
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_registry_export_csv_and_xlsx_are_neutralised() -> None:
    header = ["项目名称", "=标签"]
    rows: list[list[Any]] = [["=1+1", "@evil"], ["智慧园区", "-5"]]
    text = render.csv_bytes(header, rows).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["项目名称", "'=标签"], ["'=1+1", "'@evil"], ["智慧园区", "-5"]]
    table = render.Table("项目报备", [render.Column(h) for h in header], rows)
    assert _xlsx_values(render.xlsx([table])) == [
        ["项目名称", "'=标签"], ["'=1+1", "'@evil"], ["智慧园区", "-5"]]


def test_report_tables_keep_numbers_and_neutralise_text() -> None:
    table = TableData(title="报表", columns=[("name", "项目", "text"), ("variance", "偏差", "number")],
                      rows=[["+cmd|calc", "-3"], ["＝1", "4"]], filename="r")
    body = bytes(csv_response(table).body).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [["项目", "偏差"], ["'+cmd|calc", "-3"], ["'＝1", "4"]]
    assert _xlsx_values(bytes(xlsx_response(table).body)) == [["项目", "偏差"], ["'+cmd|calc", -3], ["'＝1", 4]]

