"""Reading uploaded sheets into rows of cells: a CSV (UTF-8 with or without a BOM, else
GB18030, what Excel on Chinese Windows writes) or a workbook's data sheet. Pure: bytes in, rows
out; shared by the registry's project import and the edge's finance cost import."""

from __future__ import annotations

import csv
import io
from typing import Any


class UnknownEncoding(ValueError):
    pass


def decode_csv(data: bytes) -> str:
    """UTF-8 (a BOM or not), else GB18030 (a superset of GBK and GB2312)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as err:
        raise UnknownEncoding(str(err)) from err


# Sheets an export adds beside the data (its filters and time): never the rows to import.
NOTE_SHEETS = ("说明", "notes", "about")


def raw_rows(data: bytes, filename: str, names: tuple[str, ...] = ()) -> list[list[Any]]:
    """The rows of a CSV, or of the workbook's sheet named one of ``names`` (the form's key or
    title: an export of several forms has a sheet per form), else its first data sheet."""
    if filename.lower().endswith(".csv") or not data.startswith(b"PK"):
        text = decode_csv(data)
        return [list(r) for r in csv.reader(io.StringIO(text))]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        wanted = {n.strip().lower() for n in names if n.strip()}
        sheets = [ws for ws in wb.worksheets if ws.title.strip().lower() not in NOTE_SHEETS] or wb.worksheets
        ws = next((w for w in sheets if w.title.strip().lower() in wanted), sheets[0])
        return [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        wb.close()
