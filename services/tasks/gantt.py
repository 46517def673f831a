"""The Gantt chart as SVG (drawsvg), drawn from the shared layout (services/tasks/gantt_layout.py):
one row per task with its name, bars on a day grid, milestones as diamonds, dependency arrows, the
critical path in red, baseline ghost bars under the bars, and a line at today. Text uses a
CJK-capable font stack so Chinese labels render in any browser. The PDF (services/tasks/gantt_pdf.py)
draws the same layout; PNG is not offered: rasterising needs cairo, a system library.
"""

from __future__ import annotations

from datetime import date

import drawsvg as dw

from services.tasks.gantt_layout import ARROW, Arrow, Diamond, GanttTask, Layout, Line, Rect, Text, layout
from services.tasks.planning import Schedule

FONT = "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"


def rows_of(schedule: Schedule) -> list[GanttTask]:
    """The schedule's rows as neutral Gantt rows (a dependency without a type is FS)."""
    return [
        GanttTask(
            id=r.task.id,
            name=r.task.name,
            start=r.start,
            finish=r.finish,
            milestone=r.task.milestone,
            summary=r.summary,
            critical=r.critical,
            done=r.task.status == "done",
            child=bool(r.task.parent_id),
            progress=r.progress,
            baseline_start=r.baseline_start,
            baseline_finish=r.baseline_finish,
            depends_on=tuple((d.task_id, d.type.value if d.type is not None else "FS") for d in r.task.depends_on),
        )
        for r in schedule.rows
    ]


def render(schedule: Schedule, *, title: str = "", today: date | None = None) -> str:
    return to_svg(layout(rows_of(schedule), title=title, today=today))


def to_svg(chart: Layout) -> str:
    d = dw.Drawing(chart.width, chart.height, font_family=FONT)
    marker = dw.Marker(-0.1, -0.5, 0.9, 0.5, scale=6, orient="auto")
    marker.append(dw.Lines(-0.1, -0.5, -0.1, 0.5, 0.9, 0, fill=ARROW, close=True))
    arrows: dw.Group | None = None
    for s in chart.shapes:
        if isinstance(s, Arrow):  # consecutive arrows share one group (stroke) and one marker
            if arrows is None:
                arrows = dw.Group(stroke=s.stroke, stroke_width=1, fill="none")
                d.append(arrows)
            path = dw.Path(marker_end=marker)
            (x0, y0), *rest = s.points
            path.M(x0, y0)
            for px, py in rest:
                path.H(px) if py == y0 else path.V(py) if px == x0 else path.L(px, py)
                x0, y0 = px, py
            arrows.append(path)
            continue
        arrows = None
        if isinstance(s, Rect):
            extra: dict[str, float] = {"rx": s.rx} if s.rx else {}
            if s.opacity < 1:
                extra["opacity"] = s.opacity
            d.append(dw.Rectangle(s.x, s.y, s.w, s.h, fill=s.fill, **extra))
        elif isinstance(s, Diamond):
            cx, cy, k = s.cx, s.cy, s.size
            d.append(dw.Lines(cx, cy - k, cx + k, cy, cx, cy + k, cx - k, cy, close=True, fill=s.fill))
        elif isinstance(s, Line):
            dash = {"stroke_dasharray": ",".join(f"{v:g}" for v in s.dash)} if s.dash else {}
            d.append(dw.Line(s.x1, s.y1, s.x2, s.y2, stroke=s.stroke, stroke_width=s.width, **dash))
        elif isinstance(s, Text):
            d.append(dw.Text(s.text, s.size, s.x, s.y, fill=s.fill, **({"font_weight": "bold"} if s.bold else {})))
    return str(d.as_svg())
