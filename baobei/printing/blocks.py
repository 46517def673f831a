"""The building blocks of a printed document (A4 portrait, reportlab platypus): the branded header
(logo, company name, title), a section heading, a key/value table, a record table whose header
repeats on every page and whose long cells wrap (and split across pages), and ``render``, which
draws every page's footer (printed at / printed by, 第 x / y 页) around the flowables.

Text uses reportlab's built-in CID font STSong-Light (as the Gantt PDF does: the viewer supplies
it, nothing is embedded, no system library). It has no bold face: emphasis is size and colour.
``render(..., compress=False)`` leaves page streams readable (tests read the text back)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
ZONE = ZoneInfo("Asia/Shanghai")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 16 * mm
FOOTER_SPACE = 10 * mm  # below the frame: the footer line sits in it
WIDTH = PAGE_WIDTH - 2 * MARGIN  # of the text frame
# Longest text one cell holds: a longer one continues in the rows below (a row never outgrows a
# page, and pieces this size fill the end of a page instead of leaving it blank).
CELL_CHARS = 300
BREAKS = "。！？；，、,.;!? "
LOGO_MAX_HEIGHT, LOGO_MAX_WIDTH = 14 * mm, 42 * mm
DEFAULT_COMPANY = "报备 Baobei"
INK, MUTED, RULE, SHADE = colors.HexColor("#1f2329"), colors.HexColor("#646a73"), colors.HexColor("#c9cdd4"), \
    colors.HexColor("#f2f3f5")


@cache
def font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@dataclass(frozen=True)
class Branding:
    """Who prints: the company's name and logo (PNG or JPEG bytes, empty for none)."""

    company_name: str = DEFAULT_COMPANY
    logo: bytes = b""


@dataclass(frozen=True)
class Printed:
    """When and by whom a document is printed (footer of every page); ``at`` is timezone-aware."""

    at: datetime
    by: str


@dataclass(frozen=True)
class Styles:
    body: ParagraphStyle
    cell: ParagraphStyle
    head: ParagraphStyle
    label: ParagraphStyle
    section: ParagraphStyle
    title: ParagraphStyle
    company: ParagraphStyle
    note: ParagraphStyle = field(repr=False)


@cache
def styles() -> Styles:
    f = font()

    def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
        # CJK wrapping breaks anywhere, so long Latin words and URLs wrap too.
        kw.setdefault("textColor", INK)
        return ParagraphStyle(name, fontName=f, fontSize=size, leading=size * 1.35, wordWrap="CJK", **kw)

    return Styles(
        body=style("body", 10),
        cell=style("cell", 9),
        head=style("head", 9, textColor=MUTED),
        label=style("label", 9, textColor=MUTED),
        section=style("section", 12, spaceBefore=10, spaceAfter=5),
        title=style("title", 18, alignment=TA_RIGHT),
        company=style("company", 13),
        note=style("note", 8, textColor=MUTED),
    )


def local_time(at: datetime | None, *, seconds: bool = False) -> str:
    """A moment as people in the office read it: Asia/Shanghai, ``2026-11-25 17:05``."""
    if at is None:
        return ""
    return at.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def text(value: str, style: ParagraphStyle | None = None) -> Paragraph:
    """``value`` as a paragraph of plain text (markup characters escaped, line breaks kept)."""
    safe = escape(value).replace("\r\n", "\n").replace("\n", "<br/>")
    return Paragraph(safe, style or styles().body)


def pieces(value: str, size: int = CELL_CHARS) -> list[str]:
    """``value`` cut into pieces of at most ``size`` characters: after a line break, else after
    punctuation or a space, where one falls in the second half of a piece (never inside a word
    or a number when there is a choice)."""
    out: list[str] = []
    rest = value
    while len(rest) > size:
        window = rest[size // 2:size]
        cut = window.rfind("\n")
        if cut < 0:
            cut = max(window.rfind(ch) for ch in BREAKS)
        cut = size // 2 + cut + 1 if cut >= 0 else size
        out.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:]
    out.append(rest)
    return out


def logo_image(logo: bytes, *, max_width: float = LOGO_MAX_WIDTH, max_height: float = LOGO_MAX_HEIGHT) -> Image | None:
    """The logo scaled into the box, keeping its aspect; None when there is none or it cannot be
    read (a broken logo never stops a print)."""
    if not logo:
        return None
    try:
        w, h = ImageReader(io.BytesIO(logo)).getSize()
    except Exception:  # noqa: BLE001 - any undecodable image prints without a logo
        return None
    if w <= 0 or h <= 0:
        return None
    scale = min(max_width / w, max_height / h)
    return Image(io.BytesIO(logo), width=w * scale, height=h * scale)


def header(branding: Branding, title: str, subtitle: str = "") -> Table:
    """Logo and company name on the left, the document's title (and a subtitle) on the right,
    a rule below."""
    st = styles()
    left: list[Flowable] = []
    logo = logo_image(branding.logo)
    brand: list[Flowable] = [text(branding.company_name or DEFAULT_COMPANY, st.company)]
    if logo is not None:
        left = [Table([[logo, brand]], colWidths=[logo.drawWidth + 3 * mm, None],
                      style=TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                        ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0),
                                        ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]))]
    else:
        left = brand
    right: list[Flowable] = [text(title, st.title)]
    if subtitle:
        right.append(text(subtitle, ParagraphStyle("subtitle", parent=st.note, alignment=TA_RIGHT)))
    table = Table([[left, right]], colWidths=[WIDTH * 0.6, WIDTH * 0.4])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ("LINEBELOW", (0, 0), (-1, 0), 1.2, INK),
    ]))
    return table


def section(title: str) -> Paragraph:
    return text(title, styles().section)


def key_values(pairs: Sequence[tuple[str, str]], *, columns: int = 2) -> Table:
    """Label/value pairs, ``columns`` pairs to a row (labels shaded); an odd tail is padded."""
    st = styles()
    cut: list[tuple[str, str]] = []
    for label, value in pairs:
        cut += [(label if i == 0 else f"{label}（续）", part) for i, part in enumerate(pieces(value))]
    pairs = cut
    rows: list[list[Any]] = []
    for i in range(0, len(pairs), columns):
        row: list[Any] = []
        for label, value in list(pairs[i:i + columns]) + [("", "")] * (columns - len(pairs[i:i + columns])):
            row += [text(label, st.label), text(value, st.cell)]
        rows.append(row)
    if not rows:
        rows = [[text("", st.cell)] * (2 * columns)]
    label_w = 24 * mm
    value_w = WIDTH / columns - label_w
    table = Table(rows, colWidths=[label_w, value_w] * columns)
    cmds: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for c in range(columns):
        cmds.append(("BACKGROUND", (2 * c, 0), (2 * c, -1), SHADE))
    table.setStyle(TableStyle(cmds))
    return table


def record_table(headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    """A table of records: ``widths`` are fractions of the frame's width; the header row repeats
    on every page; cells wrap, and a cell longer than ``CELL_CHARS`` continues in rows below it
    (so a row never outgrows a page)."""
    st = styles()
    total = sum(widths) or 1.0
    data: list[list[Any]] = [[text(h, st.head) for h in headers]]
    for row in rows:
        cells = [pieces(cell) for cell in row]
        for i in range(max(len(c) for c in cells) if cells else 0):
            data.append([text(c[i] if i < len(c) else "", st.cell) for c in cells])
    table = Table(data, colWidths=[WIDTH * w / total for w in widths], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def spacer(height: float = 4 * mm) -> Spacer:
    return Spacer(1, height)


def footer_text(printed: Printed) -> str:
    return f"打印时间：{local_time(printed.at, seconds=True)}　打印人：{printed.by}"


def page_text(page: int, pages: int) -> str:
    return f"第 {page} / {pages} 页"


def _canvas_class(printed: Printed) -> type[Canvas]:
    """A canvas that holds its pages back until the end, so each footer can say "x / y"."""

    class FooterCanvas(Canvas):  # type: ignore[misc]  # reportlab is untyped
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            pages = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                self._footer(number, pages)
                super().showPage()
            super().save()

        def _footer(self, number: int, pages: int) -> None:
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            y = MARGIN + FOOTER_SPACE - 3 * mm
            self.line(MARGIN, y + 3.5 * mm, PAGE_WIDTH - MARGIN, y + 3.5 * mm)
            self.setFont(font(), 8)
            self.setFillColor(MUTED)
            self.drawString(MARGIN, y, footer_text(printed))
            self.drawRightString(PAGE_WIDTH - MARGIN, y, page_text(number, pages))
            self.restoreState()

    return FooterCanvas


def render(flowables: Sequence[Flowable], *, title: str, printed: Printed, author: str = "",
           compress: bool = True) -> bytes:
    """The flowables on A4 portrait pages with the footer on each; deterministic for the same
    input (no creation date or random document id)."""
    font()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=MARGIN + FOOTER_SPACE, title=title, author=author, creator="Baobei", invariant=1,
        pageCompression=1 if compress else 0,
    )
    doc.build(list(flowables), canvasmaker=_canvas_class(printed))
    return buf.getvalue()
