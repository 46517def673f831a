"""The Gantt chart: one layout drawn as SVG and as PDF (same bars, diamonds, arrows, critical and
baseline colours, today line, labels); the PDF uses the CID font STSong-Light for Chinese labels."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from edge.routes.tasks import gantt_formats
from services.tasks import domain, gantt, gantt_pdf, planning
from services.tasks.gantt_layout import COLOURS, Arrow, Diamond, GanttTask, Rect, Text, layout

D, T = domain.Dependency, domain.DependencyType
NOW = datetime(2026, 11, 25, 9, tzinfo=UTC)
TODAY = date(2026, 12, 3)
NAMES = ["项目实施", "需求调研", "开发与联调", "文档编写", "上线验收"]


def task(i: str, name: str, **kw: object) -> domain.Task:
    base: dict[str, object] = dict(
        id=i,
        project_id="p",
        name=name,
        assignee_id="",
        start=None,
        due=None,
        duration_days=0,
        milestone=False,
        status=domain.TaskStatus.TODO,
        progress=0,
        created_at=NOW,
    )
    base.update(kw)
    return domain.Task(**base)  # type: ignore[arg-type]


def schedule() -> planning.Schedule:
    """A summary with four children: FS, SS with lag, FF into a milestone; one done; a baseline."""
    tasks = [
        task("s", NAMES[0]),
        task("a", NAMES[1], parent_id="s", start=date(2026, 12, 1), duration_days=3, status=domain.TaskStatus.DONE),
        task("b", NAMES[2], parent_id="s", duration_days=5, progress=40, depends_on=(D("a", T.FS),)),
        task("c", NAMES[3], parent_id="s", duration_days=1, depends_on=(D("a", T.SS, 1),)),
        task("m", NAMES[4], parent_id="s", milestone=True, depends_on=(D("b", T.FS), D("c", T.FF))),
    ]
    base = {"a": (date(2026, 12, 1), date(2026, 12, 2)), "b": (date(2026, 12, 3), date(2026, 12, 8))}
    return planning.build(tasks, today=TODAY, baseline=base)


def pdf_texts(pdf: bytes) -> list[str]:
    """The strings shown (Tj) in an uncompressed PDF, decoded from the CID font's UCS-2 (UTF-16BE)."""
    escapes = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def unescape(m: re.Match[bytes]) -> bytes:
        e = m.group(1)
        return bytes([int(e, 8)]) if e[:1].isdigit() else escapes.get(e, e)

    out = []
    for m in re.finditer(rb"\(((?:\\[0-7]{1,3}|\\.|[^\\)])*)\) Tj", pdf, re.S):
        raw = re.sub(rb"\\([0-7]{1,3}|.)", unescape, m.group(1), flags=re.S)
        out.append(raw.decode("utf-16-be"))
    return out


def test_layout_has_every_element_once() -> None:
    s = schedule()
    chart = layout(gantt.rows_of(s), title="BB-1 交付", today=TODAY)
    shapes = chart.shapes
    texts = [x.text for x in shapes if isinstance(x, Text)]
    assert all(n in texts for n in NAMES) and "今天" in texts and "BB-1 交付" in texts
    assert len([x for x in shapes if isinstance(x, Diamond)]) == 1  # the milestone
    assert len([x for x in shapes if isinstance(x, Arrow)]) == 4  # one per dependency
    fills = [x.fill for x in shapes if isinstance(x, Rect)]
    assert COLOURS["critical"] in fills and COLOURS["summary"] in fills and COLOURS["done"] in fills
    assert fills.count(COLOURS["base"]) == 2 + 1  # two baseline ghost bars + the legend swatch
    # paint order: arrows under bars, bars under labels
    first_bar = next(i for i, x in enumerate(shapes) if isinstance(x, Rect) and x.fill == COLOURS["summary"])
    last_arrow = max(i for i, x in enumerate(shapes) if isinstance(x, Arrow))
    first_label = next(i for i, x in enumerate(shapes) if isinstance(x, Text) and x.text == NAMES[0])
    assert last_arrow < first_bar < first_label


def test_svg_keeps_its_elements() -> None:
    svg = gantt.render(schedule(), title="BB-1 交付", today=TODAY)
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    assert all(n in svg for n in NAMES) and "今天" in svg and "PingFang SC" in svg
    assert COLOURS["critical"] in svg and COLOURS["base"] in svg and COLOURS["done"] in svg
    assert svg.count("marker-end=") == 4 and "<marker" in svg
    assert 'stroke-dasharray="4,3"' in svg  # the today line


def test_pdf_draws_the_same_layout_with_the_cid_font() -> None:
    rows = gantt.rows_of(schedule())
    pdf = gantt_pdf.render(rows, title="BB-1 交付", today=TODAY, compress=False)
    assert pdf.startswith(b"%PDF-")
    assert b"/BaseFont /STSong-Light" in pdf and b"UniGB-UCS2-H" in pdf
    shown = pdf_texts(pdf)
    assert all(n in shown for n in NAMES) and "今天" in shown
    chart = layout(rows, title="BB-1 交付", today=TODAY)
    # every text of the layout once (the bold title overstruck: twice)
    assert len(shown) == len([x for x in chart.shapes if isinstance(x, Text)]) + 1
    page = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert page and (float(page.group(1)), float(page.group(2))) == (chart.width, chart.height)
    # compressed by default, and still a PDF with the font
    packed = gantt_pdf.render(rows, title="BB-1 交付", today=TODAY)
    assert packed.startswith(b"%PDF-") and b"STSong-Light" in packed and len(packed) < len(pdf)


def test_empty_plan_and_a_huge_plan() -> None:
    assert "暂无任务" in gantt.render(planning.build([], today=TODAY), title="BB-2")
    assert "BB-2：暂无任务" in pdf_texts(gantt_pdf.render([], title="BB-2", compress=False))
    day = date(2026, 12, 1)
    rows = [GanttTask(id=f"t{i}", name=f"任务{i}", start=day, finish=day) for i in range(800)]
    pdf = gantt_pdf.render(rows, compress=False)
    page = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert page and float(page.group(2)) <= gantt_pdf.MAX_PAGE  # scaled down to PDF's page limit


def test_gantt_formats_setting() -> None:
    assert gantt_formats("svg,pdf") == ["svg", "pdf"]
    assert gantt_formats(" PDF , png, svg,pdf") == ["pdf", "svg"]  # PNG is not drawn: never offered
    assert gantt_formats("") == []
