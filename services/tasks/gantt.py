"""The Gantt chart as SVG (drawsvg): one row per task with its name, bars on a day grid, milestones
as diamonds, dependency arrows, the critical path in red, baseline ghost bars under the bars, and a
line at today. Text uses a CJK-capable font stack so Chinese labels render in any browser.
PNG/PDF are not offered: rasterising needs cairo (a system library the deployment does not have).
"""

from __future__ import annotations

from datetime import date, timedelta

import drawsvg as dw

from services.tasks.planning import Schedule

FONT = "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif"
ROW = 26
LABEL_W = 260
HEADER = 48
DAY_W_MAX = 28.0
CHART_W_TARGET = 1100.0
COLOURS = {"bar": "#4a90d9", "critical": "#d9534f", "done": "#8fbf6f", "summary": "#34495e", "base": "#c8c8c8"}


def _clip(text: str, limit: int = 18) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render(schedule: Schedule, *, title: str = "", today: date | None = None) -> str:
    rows = schedule.rows
    if not rows or schedule.start is None or schedule.finish is None:
        d = dw.Drawing(400, 60)
        d.append(dw.Text((title or "甘特图") + "：暂无任务", 14, 12, 34, font_family=FONT))
        return str(d.as_svg())
    first = min([schedule.start] + [r.baseline_start for r in rows if r.baseline_start])
    last = max([schedule.finish] + [r.baseline_finish for r in rows if r.baseline_finish])
    first -= timedelta(days=1)
    last += timedelta(days=2)
    days = (last - first).days
    day_w = max(min(DAY_W_MAX, CHART_W_TARGET / max(days, 1)), 2.0)
    width = LABEL_W + days * day_w + 20
    height = HEADER + ROW * len(rows) + 20
    d = dw.Drawing(width, height, font_family=FONT)
    d.append(dw.Rectangle(0, 0, width, height, fill="white"))
    d.append(dw.Text(title or "甘特图", 15, 10, 20, font_weight="bold"))

    def x(day: date) -> float:
        return LABEL_W + (day - first).days * day_w

    # Month / week ticks in the header, light vertical grid each Monday.
    day = first
    while day <= last:
        if day.weekday() == 0 or day == first:
            d.append(dw.Line(x(day), HEADER - 6, x(day), height - 10, stroke="#eeeeee", stroke_width=1))
            d.append(dw.Text(f"{day.month}/{day.day}", 10, x(day) + 2, HEADER - 10, fill="#666666"))
        day += timedelta(days=1)

    index = {r.task.id: i for i, r in enumerate(rows)}
    arrows = dw.Group(stroke="#888888", stroke_width=1, fill="none")
    marker = dw.Marker(-0.1, -0.5, 0.9, 0.5, scale=6, orient="auto")
    marker.append(dw.Lines(-0.1, -0.5, -0.1, 0.5, 0.9, 0, fill="#888888", close=True))
    bars = dw.Group()
    labels = dw.Group(font_size=12)
    for i, r in enumerate(rows):
        y = HEADER + i * ROW
        indent = 12 if r.task.parent_id else 0
        labels.append(dw.Text(_clip(r.task.name), 12, 8 + indent, y + 17, fill="#222222"))
        if r.baseline_start and r.baseline_finish:
            bx = x(r.baseline_start)
            bars.append(
                dw.Rectangle(bx, y + 17, max(x(r.baseline_finish) + day_w - bx, 2), 5, fill=COLOURS["base"], rx=1)
            )
        colour = (
            COLOURS["summary"]
            if r.summary
            else COLOURS["critical"]
            if r.critical
            else COLOURS["done"]
            if r.task.status == "done"
            else COLOURS["bar"]
        )
        if r.task.milestone:
            cx, cy, s = x(r.finish) + day_w / 2, y + ROW / 2, 7
            bars.append(dw.Lines(cx, cy - s, cx + s, cy, cx, cy + s, cx - s, cy, close=True, fill=colour))
        else:
            bx = x(r.start)
            w = max(x(r.finish) + day_w - bx, 2)
            h = 8 if r.summary else 14
            bars.append(dw.Rectangle(bx, y + (ROW - h) / 2 - 2, w, h, fill=colour, rx=2, opacity=0.9))
            if r.progress and not r.summary:
                bars.append(dw.Rectangle(bx, y + ROW / 2 + 3, w * r.progress / 100, 2, fill="#1f3b57"))
        for dep in r.task.depends_on:
            j = index.get(dep.task_id)
            if j is None:
                continue
            p = rows[j]
            from_start = dep.type is not None and dep.type.value in ("SS", "SF")
            to_finish = dep.type is not None and dep.type.value in ("FF", "SF")
            x1 = x(p.start) if from_start else x(p.finish) + day_w
            x2 = x(r.finish) + day_w if to_finish else x(r.start)
            y1, y2 = HEADER + j * ROW + ROW / 2, y + ROW / 2
            path = dw.Path(marker_end=marker)
            path.M(x1, y1).H(x1 + 5).V(y2).H(x2 - 1 if not to_finish else x2 + 1)
            arrows.append(path)
    d.append(arrows)
    d.append(bars)
    d.append(labels)
    if today is not None and first <= today <= last:
        tx = x(today) + day_w / 2
        d.append(dw.Line(tx, HEADER - 4, tx, height - 10, stroke="#e67e22", stroke_width=1.5, stroke_dasharray="4,3"))
        d.append(dw.Text("今天", 10, tx + 3, height - 12, fill="#e67e22"))
    legend_y = 20
    for k, (label, colour) in enumerate(
        [
            ("关键路径", COLOURS["critical"]),
            ("普通任务", COLOURS["bar"]),
            ("已完成", COLOURS["done"]),
            ("基线", COLOURS["base"]),
        ]
    ):
        lx = LABEL_W + k * 80
        d.append(dw.Rectangle(lx, legend_y - 9, 12, 9, fill=colour))
        d.append(dw.Text(label, 11, lx + 16, legend_y, fill="#333333"))
    return str(d.as_svg())
