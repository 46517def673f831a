"""The Gantt chart as PDF (reportlab, pure Python), drawn from the same layout as the SVG
(services/tasks/gantt_layout.py). Labels use reportlab's built-in CID font STSong-Light (Adobe's
Chinese font, supplied by the viewer: nothing to embed, no system library). One page fitted to the
chart, one point per SVG pixel; a chart beyond PDF's page limit (14,400 pt, about 550 rows) is
scaled down to fit it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import date
from functools import cache

from reportlab.lib.colors import Color, HexColor
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from services.tasks.gantt_layout import Arrow, Diamond, GanttTask, Layout, Line, Rect, Shape, Text, layout

FONT = "STSong-Light"
MAX_PAGE = 14400.0  # points: the largest page Acrobat opens (200 inches)
HEAD = 6.0  # arrowhead length, as the SVG marker (scale 6, from 0.1 behind the end to 0.9 ahead)


@cache
def _font() -> str:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@cache
def _colour(hex_: str) -> Color:
    return HexColor(hex_)


def render(rows: Sequence[GanttTask], *, title: str = "", today: date | None = None, compress: bool = True) -> bytes:
    """The chart of ``rows`` as a one-page PDF; ``compress=False`` leaves page streams readable."""
    return to_pdf(layout(rows, title=title, today=today), title=title, compress=compress)


def to_pdf(chart: Layout, *, title: str = "", compress: bool = True) -> bytes:
    font = _font()
    scale = min(1.0, MAX_PAGE / chart.width, MAX_PAGE / chart.height)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(chart.width * scale, chart.height * scale), pageCompression=1 if compress else 0)
    c.setTitle(title or "甘特图")
    c.setCreator("Baobei")
    c.scale(scale, scale)
    top = chart.height  # layout y grows downwards from the top, PDF y upwards from the bottom
    shapes = chart.shapes
    i = 0
    while i < len(shapes):
        s = shapes[i]
        if isinstance(s, Arrow):  # a run of arrows: one stroked path and one filled path of heads
            j = i
            while j < len(shapes) and isinstance(shapes[j], Arrow):
                j += 1
            _arrows(c, shapes[i:j], top)
            i = j
            continue
        i += 1
        if isinstance(s, Rect):
            c.setFillColor(_colour(s.fill), alpha=s.opacity)
            y = top - s.y - s.h
            if s.rx:
                c.roundRect(s.x, y, s.w, s.h, min(s.rx, s.w / 2, s.h / 2), stroke=0, fill=1)
            else:
                c.rect(s.x, y, s.w, s.h, stroke=0, fill=1)
        elif isinstance(s, Diamond):
            c.setFillColor(_colour(s.fill), alpha=1)
            cy, k = top - s.cy, s.size
            p = c.beginPath()
            p.moveTo(s.cx, cy + k)
            p.lineTo(s.cx + k, cy)
            p.lineTo(s.cx, cy - k)
            p.lineTo(s.cx - k, cy)
            p.close()
            c.drawPath(p, stroke=0, fill=1)
        elif isinstance(s, Line):
            c.setStrokeColor(_colour(s.stroke))
            c.setLineWidth(s.width)
            c.setDash(list(s.dash) if s.dash else [])
            c.line(s.x1, top - s.y1, s.x2, top - s.y2)
            c.setDash([])
        elif isinstance(s, Text):
            c.setFillColor(_colour(s.fill), alpha=1)
            c.setFont(font, s.size)
            c.drawString(s.x, top - s.y, s.text)
            if s.bold:  # STSong-Light has no bold face: overstrike a hair to the right
                c.drawString(s.x + 0.4, top - s.y, s.text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _arrows(c: Canvas, run: Sequence[Shape], top: float) -> None:
    lines, heads = c.beginPath(), c.beginPath()
    for a in run:
        assert isinstance(a, Arrow)
        pts = [(x, top - y) for x, y in a.points]
        lines.moveTo(*pts[0])
        for p in pts[1:]:
            lines.lineTo(*p)
        (ax, ay), (bx, by) = pts[-2], pts[-1]
        length = math.hypot(bx - ax, by - ay) or 1.0
        ux, uy = (bx - ax) / length, (by - ay) / length
        back_x, back_y = bx - 0.1 * HEAD * ux, by - 0.1 * HEAD * uy
        half = HEAD / 2
        heads.moveTo(back_x - uy * half, back_y + ux * half)
        heads.lineTo(back_x + uy * half, back_y - ux * half)
        heads.lineTo(bx + 0.9 * HEAD * ux, by + 0.9 * HEAD * uy)
        heads.close()
    ink = _colour(run[0].stroke if isinstance(run[0], Arrow) else "#888888")
    c.setStrokeColor(ink)
    c.setFillColor(ink, alpha=1)
    c.setLineWidth(1)
    c.drawPath(lines, stroke=1, fill=0)
    c.drawPath(heads, stroke=0, fill=1)
