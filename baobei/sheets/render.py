"""Typed tables as .xlsx and .csv. Cells keep their types: Decimals and ints stay numbers (amounts
``#,##0.00``), dates and datetimes are Excel dates (already in local time: Excel has no zones);
text cells get the formula-injection guard. Every data sheet has its header row frozen, an auto
filter and column widths fitted to its content (CJK characters count double)."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from baobei.core.spreadsheet import safe_cell
from baobei.sheets.columns import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    DECIMAL_FORMAT,
    INT,
    INT_FORMAT,
    MONEY,
    MONEY_FORMAT,
    NUMBER,
    TEXT,
)

MIN_WIDTH, MAX_WIDTH = 6.0, 50.0
WIDTH_SAMPLE_ROWS = 500
SHEET_TITLE_MAX = 31
_BAD_TITLE_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})
HEADER_FILL = "FFDDEBF7"
REQUIRED_COLOR = "FFC00000"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENCODINGS = ("utf-8", "gbk")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = TEXT


@dataclass
class Table:
    title: str
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)


def xml_safe(value: Any) -> Any:
    """Text without the control characters an .xlsx cannot hold (openpyxl refuses them rather than
    writing a broken file); other values unchanged."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def excel_text(value: Any) -> Any:
    """A text cell as written to an .xlsx: formula-guarded and XML-safe."""
    return xml_safe(safe_cell(value))


def display_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: wide (CJK, full-width) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def number_format(kind: str, value: Any) -> str | None:
    """The Excel number format of a cell of ``kind`` holding ``value`` (None: General)."""
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if kind == MONEY:
        return MONEY_FORMAT
    if kind in (NUMBER, INT):
        return INT_FORMAT if value == int(value) else DECIMAL_FORMAT
    return None


def cell_text(value: Any) -> str:
    """A cell as CSV text: numbers plain (no thousands separators, so they re-import), dates ISO."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _shown(value: Any, kind: str) -> str:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return format(value, ",.2f") if kind == MONEY else format(value, ",")
    return cell_text(value)


def column_widths(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Widths fitting the header and the first rows' values, within [MIN_WIDTH, MAX_WIDTH]."""
    out = []
    for i, col in enumerate(columns):
        widest = display_width(col.header)
        for row in rows[:WIDTH_SAMPLE_ROWS]:
            if i < len(row) and row[i] not in (None, ""):
                widest = max(widest, display_width(_shown(row[i], col.kind)))
        out.append(min(max(widest + 2.0, MIN_WIDTH), MAX_WIDTH))
    return out


def sheet_title(name: str, taken: set[str]) -> str:
    """``name`` as a sheet title Excel accepts (≤ 31 characters, none of ``[]:*?/\\``), unique in
    ``taken`` (compared case-insensitively, as Excel does); added to ``taken``."""
    base = (xml_safe(name).translate(_BAD_TITLE_CHARS).strip("' ") or "Sheet")[:SHEET_TITLE_MAX]
    title, n = base, 1
    while title.lower() in taken:
        n += 1
        suffix = f" ({n})"
        title = base[: SHEET_TITLE_MAX - len(suffix)] + suffix
    taken.add(title.lower())
    return title


def column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def xlsx(tables: Sequence[Table], notes: Table | None = None) -> bytes:
    """One sheet per table (the first is the one that opens), then ``notes`` (a two-column sheet
    of key and value, e.g. the export's filters and time). Streamed: fit for 100,000 rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor=HEADER_FILL)
    for table in [*tables, *([notes] if notes is not None else [])]:
        ws = wb.create_sheet(table.title)
        widths = column_widths(table.columns, table.rows)
        for i, width in enumerate(widths):
            ws.column_dimensions[column_letter(i)].width = width
        if table is not notes:
            ws.freeze_panes = "A2"
        header = []
        for col in table.columns:
            cell = WriteOnlyCell(ws, value=excel_text(col.header))
            cell.font, cell.fill = bold, fill
            cell.alignment = Alignment(vertical="center")
            header.append(cell)
        ws.append(header)
        kinds = [c.kind for c in table.columns]
        typed = _StyledCells(ws, WriteOnlyCell)
        for row in table.rows:
            ws.append(_typed_row(row, kinds, typed))
        if table is not notes and table.columns:
            ws.auto_filter.ref = f"A1:{column_letter(len(table.columns) - 1)}{len(table.rows) + 1}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


class _StyledCells:
    """One styled cell per number format, re-filled per value: openpyxl writes each appended row
    out at once, and a fresh styled cell per value costs a third of the rendering time."""

    def __init__(self, ws: Any, cell_type: Any) -> None:
        self.ws, self.cell_type = ws, cell_type
        self.cells: dict[str, Any] = {}

    def __call__(self, value: Any, fmt: str) -> Any:
        cell = self.cells.get(fmt)
        if cell is None:
            cell = self.cells[fmt] = self.cell_type(self.ws)
            cell.number_format = fmt
        cell.value = value
        return cell


def _typed_row(row: Sequence[Any], kinds: Sequence[str], typed: Callable[[Any, str], Any]) -> Iterator[Any]:
    """The row's cells, lazily: a styled cell is re-filled for the next value only after openpyxl
    has written it (it consumes the row one cell at a time)."""
    for i, value in enumerate(row):
        fmt = number_format(kinds[i] if i < len(kinds) else TEXT, value)
        yield excel_text(value) if fmt is None else typed(value, fmt)


def csv_bytes(headers: Iterable[str], rows: Iterable[Sequence[Any]], encoding: str = "utf-8") -> bytes:
    """UTF-8 with a BOM (Excel then reads the Chinese), or GBK for Excel on Chinese Windows
    (characters GBK cannot hold become ``?``)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([safe_cell(h) for h in headers])
    writer.writerows([safe_cell(cell_text(v)) for v in row] for row in rows)
    if encoding == "gbk":
        return buf.getvalue().encode("gbk", errors="replace")
    return ("\ufeff" + buf.getvalue()).encode()


def csv_media_type(encoding: str) -> str:
    return f"text/csv; charset={'gbk' if encoding == 'gbk' else 'utf-8'}"
