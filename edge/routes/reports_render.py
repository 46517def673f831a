"""Rendering of report tables: CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX (openpyxl) and
SVG charts (pygal: bar, line, pie, burndown) with Chinese labels and a CJK-capable font stack, and
without pygal's scripts (no third-party JavaScript in a chart).

A report table only ever holds the columns reporting keeps — project snapshot fields (code, name,
status, amount, owner, department, region, business line, form) and computed figures, never form
``fields`` — so exports cannot leak read-restricted form fields; rows are limited to the projects
the caller may see before they get here."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pygal
from fastapi import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from pygal.style import Style

from baobei.core.spreadsheet import safe_row

Format = Literal["json", "csv", "xlsx", "svg"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FONT = "'Noto Sans CJK SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', 'WenQuanYi Micro Hei', sans-serif"
STYLE = Style(
    font_family=FONT,
    label_font_family=FONT,
    major_label_font_family=FONT,
    value_font_family=FONT,
    value_label_font_family=FONT,
    tooltip_font_family=FONT,
    title_font_family=FONT,
    legend_font_family=FONT,
    no_data_font_family=FONT,
    background="white",
    plot_background="white",
    colors=("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"),
    title_font_size=18,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=12,
)
STATUS_ZH = {
    "draft": "草稿",
    "pending_approval": "审批中",
    "active": "执行中",
    "closed": "已关闭",
    "returned": "已退回",
    "rejected": "已驳回",
    "cancelled": "已撤回",
    "unknown": "未知",
}
HEALTH_ZH = {"green": "正常", "amber": "关注", "red": "风险"}
HEALTH_COLORS = {"green": "#2ca02c", "amber": "#ff9f1a", "red": "#d62728"}


@dataclass(frozen=True)
class TableData:
    title: str
    columns: Sequence[tuple[str, str, str]]  # (key, label, kind)
    rows: Sequence[Sequence[Any]]
    filename: str

    def as_json(self) -> dict[str, Any]:
        keys = [c[0] for c in self.columns]
        return {
            "title": self.title,
            "columns": [{"key": k, "label": label, "kind": kind} for k, label, kind in self.columns],
            "rows": [dict(zip(keys, r, strict=True)) for r in self.rows],
        }


def csv_response(t: TableData) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(safe_row(c[1] for c in t.columns))
    writer.writerows([safe_row("" if v is None else v for v in r) for r in t.rows])
    return Response(
        content="\ufeff" + buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{t.filename}.csv"'},
    )


def _cell(value: Any, kind: str) -> Any:
    """Numbers as numbers where that is exact enough for a spreadsheet; money stays an exact string."""
    if kind in ("number", "days", "hours") and isinstance(value, str) and value:
        try:
            return int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return value


def xlsx_response(t: TableData) -> Response:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = (t.title or "报表")[:31]
    ws.append(safe_row(c[1] for c in t.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in t.rows:
        ws.append(safe_row(_cell(v, c[2]) for v, c in zip(r, t.columns, strict=True)))
    for i, c in enumerate(t.columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(10, min(40, len(c[1]) * 2 + 4))
    buf = io.BytesIO()
    wb.save(buf)
    return Response(
        content=buf.getvalue(),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{t.filename}.xlsx"'},
    )


def svg_response(svg: bytes | str) -> Response:
    return Response(content=svg, media_type="image/svg+xml; charset=utf-8")


def without_scripts(root: Any) -> Any:
    """pygal writes an inline config <script> and links its tooltip script from a public CDN:
    a chart carries no script at all (served with a CSP that runs none either)."""
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return root


def _chart(kind: str, title: str, **extra: Any) -> Any:
    cls = {"bar": pygal.Bar, "line": pygal.Line, "pie": pygal.Pie, "hbar": pygal.HorizontalBar}[kind]
    chart = cls(
        title=title,
        style=extra.pop("style", STYLE),
        width=extra.pop("width", 800),
        height=extra.pop("height", 450),
        x_label_rotation=extra.pop("x_label_rotation", 20),
        truncate_label=-1,
        truncate_legend=-1,
        print_values=kind != "line",
        disable_xml_declaration=False,
        js=[],
        **extra,
    )
    chart.add_xml_filter(without_scripts)
    return chart


def _number(value: Any) -> float | None:
    try:
        text = str(value).rstrip("%")
        return float(text) if text else None
    except ValueError:
        return None


def table_chart(t: TableData, *, kind: str, label_col: int, value_cols: Sequence[int]) -> bytes:
    """A bar / line / pie chart of a table: labels from one column, one series per value column."""
    # A report grouped another way may have fewer columns (or none, when empty): chart what exists.
    value_cols = [c for c in value_cols if c < len(t.columns)]
    labels = [str(r[label_col]) if label_col < len(r) else "" for r in t.rows]
    if kind == "pie":
        chart = _chart("pie", t.title)
        for label, r in zip(labels, t.rows, strict=True):
            if value_cols:
                chart.add(label, _number(r[value_cols[0]]) or 0)
        return bytes(chart.render())
    chart = _chart(kind, t.title)
    chart.x_labels = labels
    for col in value_cols:
        chart.add(t.columns[col][1], [_number(r[col]) for r in t.rows])
    return bytes(chart.render())


def counts_chart(title: str, counts: dict[str, int], *, kind: str, names: dict[str, str]) -> bytes:
    if kind == "pie":
        chart = _chart("pie", title)
        for key, n in counts.items():
            chart.add(names.get(key, key), n)
        return bytes(chart.render())
    chart = _chart(kind, title)
    chart.x_labels = [names.get(k, k) for k in counts]
    chart.add("项目数", list(counts.values()))
    return bytes(chart.render())


def burndown_chart(title: str, points: Sequence[Any]) -> bytes:
    chart = _chart("line", title, x_label_rotation=45, show_minor_x_labels=False, dots_size=2)
    chart.x_labels = [p.day for p in points]
    chart.x_labels_major = [p.day for p in points][:: max(len(points) // 10, 1)]
    chart.y_title = "剩余工时（小时）"
    chart.add("实际剩余", [p.remaining_hours for p in points])
    chart.add("理想燃尽", [p.ideal_hours for p in points], stroke_style={"dasharray": "6, 4"})
    return bytes(chart.render())
