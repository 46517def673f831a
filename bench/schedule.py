"""CPM + auto-scheduling on a 5,000-task / 20,000-dependency plan (target ≤ 200 ms) and the Gantt
SVG and PDF of 500 tasks (target ≤ 300 ms each). Pure computation, the same code the tasks service runs.

    .venv/bin/python -m bench.schedule [--tasks 5000 --deps 20000 --gantt 500 --runs 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from services.tasks import domain, gantt, gantt_pdf, planning
from services.tasks.schedule import Link, Node, compute
from services.tasks.workdays import calendar

TYPES = [domain.DependencyType.FS] * 7 + [domain.DependencyType.SS, domain.DependencyType.FF, domain.DependencyType.SF]


def make_plan(n: int, deps: int, seed: int = 7) -> list[domain.Task]:
    """A DAG: each link points to one of the previous 200 tasks (plans are local), random types and lags."""
    rnd = random.Random(seed)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    per = [0] * n
    for _ in range(deps):
        per[rnd.randrange(1, n)] += 1
    tasks: list[domain.Task] = []
    for i in range(n):
        preds = rnd.sample(range(max(0, i - 200), i), min(per[i], i)) if i else []
        tasks.append(
            domain.Task(
                id=f"t{i}",
                project_id="bench",
                name=f"任务{i} 实施与验收",
                assignee_id="",
                milestone=i % 50 == 0,
                start=date(2026, 12, 1) if i == 0 else None,
                due=None,
                duration_days=rnd.randint(1, 10),
                status=domain.TaskStatus.TODO,
                progress=rnd.randint(0, 100),
                created_at=now,
                depends_on=tuple(domain.Dependency(f"t{p}", rnd.choice(TYPES), rnd.randint(-2, 3)) for p in preds),
            )
        )
    return tasks


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=5000)
    ap.add_argument("--deps", type=int, default=20000)
    ap.add_argument("--gantt", type=int, default=500)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    calendar()  # warm the working-day table once (per process, like the service)
    plan = make_plan(args.tasks, args.deps)
    links = sum(len(t.depends_on) for t in plan)
    nodes = planning.to_nodes(plan, calendar())
    small = make_plan(args.gantt, args.gantt * 4, seed=11)
    small_schedule = planning.build(small, today=date(2026, 12, 15))
    rows = [
        (
            f"CPM passes only ({args.tasks} tasks, {links} deps)",
            timed(lambda: compute(nodes, project_start=0), args.runs),
            200.0,
        ),
        (
            f"auto-schedule + CPM + dates ({args.tasks}/{links})",
            timed(lambda: planning.build(plan, today=date(2026, 12, 15)), args.runs),
            200.0,
        ),
        (
            f"Gantt SVG ({args.gantt} tasks, {sum(len(t.depends_on) for t in small)} arrows)",
            timed(lambda: gantt.render(small_schedule, title="基准 甘特图", today=date(2026, 12, 15)), args.runs),
            300.0,
        ),
        (
            f"Gantt PDF ({args.gantt} tasks, same layout, reportlab)",
            timed(
                lambda: gantt_pdf.render(gantt.rows_of(small_schedule), title="基准 甘特图", today=date(2026, 12, 15)),
                args.runs,
            ),
            300.0,
        ),
    ]
    svg_kb = len(gantt.render(small_schedule, title="基准")) / 1024
    pdf_kb = len(gantt_pdf.render(gantt.rows_of(small_schedule), title="基准")) / 1024
    print(f"{'case':<58} {'p50 ms':>8} {'max ms':>8} {'target':>8}  ok")
    for name, times, target in rows:
        p50 = statistics.median(times)
        print(f"{name:<58} {p50:>8.1f} {max(times):>8.1f} {target:>8.0f}  {'yes' if p50 <= target else 'NO'}")
    _ = Node, Link
    sizes = f"SVG size {svg_kb:.0f} KiB, PDF {pdf_kb:.0f} KiB"
    print(f"({sizes}; {args.runs} runs each; single core of a shared 2-core machine)")


if __name__ == "__main__":
    main()
