"""The Gantt chart computed once, as plain shapes on a canvas of points (y grows downwards), so the
SVG (services/tasks/gantt.py) and the PDF (services/tasks/gantt_pdf.py) draw the same chart: one row
per task with its name, bars on a day grid, milestones as diamonds, dependency arrows, the critical
path in red, baseline ghost bars under the bars, a line at today, the axis ticks and a legend.

The input is a neutral row (``GanttTask``): the tasks service builds it from its schedule, the edge
from the schedule it reads over gRPC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

ROW = 26
LABEL_W = 260
HEADER = 48
DAY_W_MAX = 28.0
CHART_W_TARGET = 1100.0
COLOURS = {"bar": "#4a90d9", "critical": "#d9534f", "done": "#8fbf6f", "summary": "#34495e", "base": "#c8c8c8"}
ARROW = "#888888"
TODAY = "#e67e22"
LEGEND = (("关键路径", "critical"), ("普通任务", "bar"), ("已完成", "done"), ("基线", "base"))


@dataclass(frozen=True)
class GanttTask:
    id: str
    name: str
    start: date
    finish: date  # inclusive (a milestone: its date)
    milestone: bool = False
    summary: bool = False
    critical: bool = False
    done: bool = False
    child: bool = False  # has a parent: the label is indented
    progress: int = 0
    baseline_start: date | None = None
    baseline_finish: date | None = None
    depends_on: tuple[tuple[str, str], ...] = ()  # (predecessor id, "FS" | "SS" | "FF" | "SF")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str
    rx: float = 0.0
    opacity: float = 1.0


@dataclass(frozen=True)
class Diamond:
    cx: float
    cy: float
    size: float
    fill: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0
    dash: tuple[float, ...] = ()


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float
    fill: str = "#222222"
    bold: bool = False


@dataclass(frozen=True)
class Arrow:
    """A dependency: a polyline ending in an arrowhead (horizontal last segment)."""

    points: tuple[tuple[float, float], ...]
    stroke: str = ARROW


Shape = Rect | Diamond | Line | Text | Arrow
_DayX = Callable[[date], float]  # a day to the left edge of its column, in points


@dataclass
class Layout:
    width: float
    height: float
    shapes: list[Shape] = field(default_factory=list)  # in paint order


def clip(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def layout(rows: Sequence[GanttTask], *, title: str = "", today: date | None = None) -> Layout:
    if not rows:
        return Layout(400, 60, [Text(12, 34, (title or "甘特图") + "：暂无任务", 14)])
    first = min([r.start for r in rows] + [r.baseline_start for r in rows if r.baseline_start])
    last = max([r.finish for r in rows] + [r.baseline_finish for r in rows if r.baseline_finish])
    first -= timedelta(days=1)
    last += timedelta(days=2)
    days = (last - first).days
    day_w = max(min(DAY_W_MAX, CHART_W_TARGET / max(days, 1)), 2.0)
    width = LABEL_W + days * day_w + 20
    height = HEADER + ROW * len(rows) + 20
    out = Layout(width, height, [Rect(0, 0, width, height, "#ffffff"), Text(10, 20, title or "甘特图", 15, bold=True)])

    def x(day: date) -> float:
        return LABEL_W + (day - first).days * day_w

    # Axis: a tick (date) and a light vertical grid line each Monday and on the first day.
    day = first
    while day <= last:
        if day.weekday() == 0 or day == first:
            out.shapes.append(Line(x(day), HEADER - 6, x(day), height - 10, "#eeeeee"))
            out.shapes.append(Text(x(day) + 2, HEADER - 10, f"{day.month}/{day.day}", 10, "#666666"))
        day += timedelta(days=1)

    out.shapes += _arrows(rows, x, day_w)
    out.shapes += _bars(rows, x, day_w)
    out.shapes += [
        Text(8 + (12 if r.child else 0), HEADER + i * ROW + 17, clip(r.name), 12) for i, r in enumerate(rows)
    ]
    if today is not None and first <= today <= last:
        tx = x(today) + day_w / 2
        out.shapes.append(Line(tx, HEADER - 4, tx, height - 10, TODAY, 1.5, (4, 3)))
        out.shapes.append(Text(tx + 3, height - 12, "今天", 10, TODAY))
    for k, (label, key) in enumerate(LEGEND):
        lx = LABEL_W + k * 80
        out.shapes.append(Rect(lx, 11, 12, 9, COLOURS[key]))
        out.shapes.append(Text(lx + 16, 20, label, 11, "#333333"))
    return out


def _colour(r: GanttTask) -> str:
    if r.summary:
        return COLOURS["summary"]
    if r.critical:
        return COLOURS["critical"]
    return COLOURS["done"] if r.done else COLOURS["bar"]


def _bars(rows: Sequence[GanttTask], x: _DayX, day_w: float) -> Iterable[Shape]:
    for i, r in enumerate(rows):
        y = HEADER + i * ROW
        if r.baseline_start and r.baseline_finish:
            bx = x(r.baseline_start)
            yield Rect(bx, y + 17, max(x(r.baseline_finish) + day_w - bx, 2), 5, COLOURS["base"], rx=1)
        if r.milestone:
            yield Diamond(x(r.finish) + day_w / 2, y + ROW / 2, 7, _colour(r))
            continue
        bx = x(r.start)
        w = max(x(r.finish) + day_w - bx, 2)
        h = 8 if r.summary else 14
        yield Rect(bx, y + (ROW - h) / 2 - 2, w, h, _colour(r), rx=2, opacity=0.9)
        if r.progress and not r.summary:
            yield Rect(bx, y + ROW / 2 + 3, w * r.progress / 100, 2, "#1f3b57")


def _arrows(rows: Sequence[GanttTask], x: _DayX, day_w: float) -> Iterable[Shape]:
    index = {r.id: i for i, r in enumerate(rows)}
    for i, r in enumerate(rows):
        y2 = HEADER + i * ROW + ROW / 2
        for task_id, kind in r.depends_on:
            j = index.get(task_id)
            if j is None:
                continue
            p = rows[j]
            from_start, to_finish = kind in ("SS", "SF"), kind in ("FF", "SF")
            x1 = x(p.start) if from_start else x(p.finish) + day_w
            x2 = x(r.finish) + day_w if to_finish else x(r.start)
            y1 = HEADER + j * ROW + ROW / 2
            yield Arrow(((x1, y1), (x1 + 5, y1), (x1 + 5, y2), (x2 + 1 if to_finish else x2 - 1, y2)))
