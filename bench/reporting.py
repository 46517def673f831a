"""Reporting benchmark: generated read models of 100,000 projects and 1,000,000 tasks (plus costs,
approval steps and decisions), written straight into a migrated reporting database — SQLite and
PostgreSQL — and the same rows loaded into DuckDB in the same run. Each query is the service's own
store function (what the gRPC handler runs, health computed in Python included) beside the same
aggregate written in DuckDB SQL.

    .venv/bin/python -m bench.reporting [--projects 100000] [--tasks-per-project 10] [--repeat 5]
        [--pg-url postgresql://postgres@127.0.0.1:5432/postgres] [--no-pg]

Generated data lives in a temporary directory (and a temporary PostgreSQL database) that is removed
at the end. Prints a table of median milliseconds and the ratios to DuckDB."""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa

from baobei.core.db import make_engine, normalise_url
from baobei.core.migrations import upgrade
from services.reporting import analytics, store

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
STATUSES = [("draft", 5), ("pending_approval", 10), ("active", 55), ("closed", 20), ("rejected", 7), ("returned", 3)]
REGIONS = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
LINES = ["智慧园区", "数据中台", "物联网", "云服务", "安防", "教育信息化"]
FORMS = ["std", "big", "gov", "channel"]
REASONS = ["客户延迟提供资料", "需求变更", "供应商延期", "人员不足", "技术难题", "审批延误", "现场条件不具备", "其他"]
COLUMNS = {
    "project_view": [
        "project_id",
        "code",
        "name",
        "status",
        "amount",
        "owner_id",
        "department_id",
        "region",
        "business_line",
        "last_event_at",
        "updated_at",
        "field_at",
        "amount_cents",
        "form_key",
        "conflict_count",
        "created_at",
        "submitted_at",
        "approved_at",
        "rejected_at",
        "closed_at",
    ],
    "task_view": [
        "task_id",
        "project_id",
        "name",
        "assignee_id",
        "status",
        "start",
        "due",
        "finish",
        "baseline_finish",
        "estimate_hours",
        "progress",
        "milestone",
        "delay_reason",
        "done_at",
        "created_at",
        "last_event_at",
    ],
    "cost_entry": ["cost_id", "project_id", "task_id", "kind", "amount_cents", "at"],
    "approval_step_view": [
        "instance_id",
        "step_index",
        "project_id",
        "step",
        "approvers",
        "opened_at",
        "closed_at",
        "outcome",
    ],
    "approval_decision_view": [
        "event_id",
        "instance_id",
        "step_index",
        "project_id",
        "step",
        "user_id",
        "action",
        "channel",
        "at",
    ],
}


def ts(value: datetime | None) -> str:
    # The text SQLAlchemy's SQLite DateTime reads back; PostgreSQL and DuckDB parse it as UTC.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if value else ""


def generate(out: Path, n_projects: int, tasks_per_project: int, seed: int = 7) -> dict[str, int]:
    """Write one CSV per table (empty field = NULL); returns row counts."""
    rnd = random.Random(seed)
    statuses = [s for s, w in STATUSES for _ in range(w)]
    files = {t: open(out / f"{t}.csv", "w", newline="", encoding="utf-8") for t in COLUMNS}  # noqa: SIM115
    writers = {t: csv.writer(f) for t, f in files.items()}
    counts = dict.fromkeys(COLUMNS, 0)
    start = NOW - timedelta(days=730)
    try:
        for i in range(n_projects):
            pid = f"p{i:07d}"
            status = rnd.choice(statuses)
            created = start + timedelta(seconds=rnd.randrange(700 * 86400))
            submitted = created + timedelta(hours=rnd.uniform(0, 72)) if status != "draft" else None
            approved = (
                submitted + timedelta(hours=rnd.uniform(2, 480))
                if status in ("active", "closed") and submitted
                else None
            )
            rejected = submitted + timedelta(hours=rnd.uniform(2, 240)) if status == "rejected" and submitted else None
            closed = approved + timedelta(days=rnd.uniform(30, 300)) if status == "closed" and approved else None
            if closed and closed > NOW:
                closed = NOW - timedelta(hours=1)
            cents = rnd.randrange(1_000_000, 500_000_000)
            last = max(x for x in (created, submitted, approved, rejected, closed) if x)
            writers["project_view"].writerow(
                [
                    pid,
                    f"BB-{created.year}-{i:06d}",
                    f"项目{i}",
                    status,
                    f"{cents / 100:.2f}",
                    f"u{rnd.randrange(2000)}",
                    f"d{rnd.randrange(50)}",
                    rnd.choice(REGIONS),
                    rnd.choice(LINES),
                    ts(last),
                    ts(last),
                    "{}",
                    cents,
                    rnd.choice(FORMS),
                    1 if rnd.random() < 0.08 else 0,
                    ts(created),
                    ts(submitted),
                    ts(approved),
                    ts(rejected),
                    ts(closed),
                ]
            )
            counts["project_view"] += 1
            if submitted:
                opened = submitted
                for step in range(2):
                    if status == "pending_approval" and step == 1:
                        break
                    done = status != "pending_approval" or step == 0 and rnd.random() < 0.5
                    decided = opened + timedelta(hours=rnd.uniform(0.5, 96)) if done else None
                    approver = f"u{rnd.randrange(200)}"
                    writers["approval_step_view"].writerow(
                        [
                            f"i{i}",
                            step,
                            pid,
                            ["经理审批", "财务审批"][step],
                            f'["{approver}"]',
                            ts(opened),
                            ts(decided),
                            "approved" if decided else "",
                        ]
                    )
                    counts["approval_step_view"] += 1
                    if decided:
                        writers["approval_decision_view"].writerow(
                            [
                                f"d{i}:{step}",
                                f"i{i}",
                                step,
                                pid,
                                ["经理审批", "财务审批"][step],
                                approver,
                                "reject" if status == "rejected" and step == 1 else "approve",
                                "api",
                                ts(decided),
                            ]
                        )
                        counts["approval_decision_view"] += 1
                        opened = decided
                    else:
                        break
            # About 1,000,000 tasks for 100,000 projects with the default 13 (+1 for a third of them).
            n_tasks = tasks_per_project + (rnd.random() < 0.35) if status in ("active", "closed") else 0
            if status in ("active", "closed"):
                base = (approved or created).date()
                for k in range(n_tasks):
                    s = base + timedelta(days=rnd.randrange(0, 120))
                    due = s + timedelta(days=rnd.randrange(1, 30))
                    if status == "closed" or (due < NOW.date() and rnd.random() < 0.8):
                        t_status = "done"
                    else:
                        t_status = rnd.choice(["todo", "in_progress", "in_progress", "blocked"])
                    done_at = (
                        datetime.combine(due + timedelta(days=rnd.randrange(-5, 8)), datetime.min.time(), UTC)
                        if t_status == "done"
                        else None
                    )
                    milestone = k == n_tasks - 1
                    writers["task_view"].writerow(
                        [
                            f"{pid}-t{k}",
                            pid,
                            f"任务{k}",
                            f"a{rnd.randrange(3000)}",
                            t_status,
                            s.isoformat(),
                            due.isoformat(),
                            "",
                            due.isoformat() if milestone else "",
                            rnd.randrange(4, 80),
                            1.0 if t_status == "done" else round(rnd.random(), 2),
                            int(milestone),
                            rnd.choice(REASONS) if rnd.random() < 0.15 else "",
                            ts(done_at),
                            ts(created),
                            ts(last),
                        ]
                    )
                    counts["task_view"] += 1
                for k in range(3):
                    writers["cost_entry"].writerow(
                        [
                            f"{pid}-c{k}",
                            pid,
                            f"{pid}-t{k}",
                            rnd.choice(["人工", "外包", "差旅", "设备"]),
                            rnd.randrange(10_000, 5_000_000),
                            ts(base_dt(base) + timedelta(days=k * 7)),
                        ]
                    )
                    counts["cost_entry"] += 1
    finally:
        for f in files.values():
            f.close()
    return counts


def base_dt(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC)


NULLABLE = {
    "submitted_at",
    "approved_at",
    "rejected_at",
    "closed_at",
    "start",
    "due",
    "finish",
    "baseline_finish",
    "done_at",
    "created_at",
    "last_event_at",
}


def not_null(table: str) -> list[str]:
    return [c for c in COLUMNS[table] if c not in NULLABLE]


def rows_of(path: Path, table: str) -> Iterator[list[Any]]:
    nullable = [c in NULLABLE for c in COLUMNS[table]]
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            yield [None if v == "" and n else v for v, n in zip(row, nullable, strict=True)]


def load_sqlite(url: str, data: Path) -> None:
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for table, cols in COLUMNS.items():
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
            cur.executemany(sql, rows_of(data / f"{table}.csv", table))  # type: ignore[arg-type]
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()
        engine.dispose()


def load_pg(url: str, data: Path) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        with conn.cursor() as cur:
            for table, cols in COLUMNS.items():
                with (
                    cur.copy(
                        f"COPY {table} ({', '.join(cols)}) FROM STDIN"
                        f" WITH (FORMAT csv, FORCE_NOT_NULL ({', '.join(not_null(table))}))"
                    ) as copy,
                    open(data / f"{table}.csv", "rb") as f,
                ):
                    while chunk := f.read(1 << 20):
                        copy.write(chunk)
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")


def summarise(engine: sa.Engine) -> None:
    """The rows were written straight into the read models (not ingested as events), so the summary
    tables that ingestion keeps are computed the way a rebuild does, then the statistics refreshed."""
    with engine.begin() as conn:
        store.recompute_summaries(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def load_duckdb(data: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    types = {
        "project_view": "project_id VARCHAR, code VARCHAR, name VARCHAR, status VARCHAR, amount DECIMAL(18,2), "
        "owner_id VARCHAR, department_id VARCHAR, region VARCHAR, business_line VARCHAR, last_event_at TIMESTAMPTZ, "
        "updated_at TIMESTAMPTZ, field_at VARCHAR, amount_cents BIGINT, form_key VARCHAR, conflict_count INT, "
        "created_at TIMESTAMPTZ, submitted_at TIMESTAMPTZ, approved_at TIMESTAMPTZ, rejected_at TIMESTAMPTZ, "
        "closed_at TIMESTAMPTZ",
        "task_view": "task_id VARCHAR, project_id VARCHAR, name VARCHAR, assignee_id VARCHAR, status VARCHAR, "
        "start DATE, due DATE, finish DATE, baseline_finish DATE, estimate_hours DOUBLE, progress DOUBLE, "
        "milestone INT, delay_reason VARCHAR, done_at TIMESTAMPTZ, created_at TIMESTAMPTZ, last_event_at TIMESTAMPTZ",
        "cost_entry": "cost_id VARCHAR, project_id VARCHAR, task_id VARCHAR, kind VARCHAR, amount_cents BIGINT, "
        '"at" TIMESTAMPTZ',
        "approval_step_view": "instance_id VARCHAR, step_index INT, project_id VARCHAR, step VARCHAR, "
        "approvers VARCHAR, opened_at TIMESTAMPTZ, closed_at TIMESTAMPTZ, outcome VARCHAR",
        "approval_decision_view": "event_id VARCHAR, instance_id VARCHAR, step_index INT, project_id VARCHAR, "
        'step VARCHAR, user_id VARCHAR, action VARCHAR, channel VARCHAR, "at" TIMESTAMPTZ',
    }
    con.execute("SET TimeZone='UTC'")
    for table, cols in types.items():
        con.execute(f"CREATE TABLE {table} ({cols})")
        con.execute(f"COPY {table} FROM '{data / (table + '.csv')}' (FORMAT csv, HEADER false, NULL '')")
    return con


TODAY = NOW.date().isoformat()
DUCK_QUERIES: dict[str, str] = {
    "project_view": "SELECT (SELECT count(*) FROM task_view WHERE project_id = $pid), "
    "(SELECT sum(amount_cents) FROM cost_entry WHERE project_id = $pid)",
    "portfolio": f"""SELECT * FROM
        (SELECT list(struct_pack(status, n, c)) FROM (SELECT status, count(*) n, sum(amount_cents) c
         FROM project_view GROUP BY status)) a,
        (SELECT count(*) FILTER (WHERE status IN ('todo','in_progress','blocked')),
                count(*) FILTER (WHERE status IN ('todo','in_progress','blocked') AND due < DATE '{TODAY}')
         FROM task_view) b,
        (SELECT count(*) FROM approval_step_view s JOIN project_view p USING (project_id)
         WHERE s.closed_at IS NULL AND p.status = 'pending_approval') c,
        (SELECT list(project_id) FROM (SELECT project_id FROM project_view ORDER BY last_event_at DESC LIMIT 50)) d""",
    "portfolio_dept": f"""SELECT * FROM
        (SELECT list(struct_pack(status, n, c)) FROM (SELECT status, count(*) n, sum(amount_cents) c
         FROM project_view WHERE department_id = 'd7' GROUP BY status)) a,
        (SELECT count(*) FILTER (WHERE due < DATE '{TODAY}') FROM task_view
         WHERE status IN ('todo','in_progress','blocked')
         AND project_id IN (SELECT project_id FROM project_view WHERE department_id = 'd7')) b""",
    "cycle_times": """SELECT business_line, count(*),
        avg(epoch(approved_at - created_at)) / 86400, quantile_cont(epoch(approved_at - created_at), [0.5, 0.9]),
        avg(epoch(closed_at - approved_at)) / 86400, quantile_cont(epoch(closed_at - approved_at), [0.5, 0.9]),
        avg(epoch(closed_at - created_at)) / 86400, quantile_cont(epoch(closed_at - created_at), [0.5, 0.9])
        FROM project_view GROUP BY 1""",
    "approval_steps": """SELECT step, count(closed_at), avg(epoch(closed_at - opened_at)) / 3600,
        quantile_cont(epoch(closed_at - opened_at) / 3600, [0.5, 0.9]), count(*) FILTER (WHERE closed_at IS NULL)
        FROM approval_step_view GROUP BY 1""",
    "approvers": """SELECT d.user_id, count(*), avg(epoch(d."at" - s.opened_at)) / 3600,
        quantile_cont(epoch(d."at" - s.opened_at) / 3600, [0.5, 0.9]),
        count(*) FILTER (WHERE action IN ('reject', 'return'))
        FROM approval_decision_view d LEFT JOIN approval_step_view s USING (instance_id, step_index) GROUP BY 1""",
    "cost_distribution": """SELECT p.business_line, count(*), sum(c.cents), avg(c.cents),
        quantile_cont(c.cents, [0.5, 0.9])
        FROM project_view p JOIN (SELECT project_id, sum(amount_cents) cents FROM cost_entry GROUP BY 1) c
        USING (project_id) GROUP BY 1""",
    "productivity": f"""SELECT assignee_id, count(*), count(*) FILTER (WHERE status = 'done'),
        count(*) FILTER (WHERE status = 'done' AND CAST(timezone('Asia/Shanghai', done_at) AS DATE) <= due),
        count(*) FILTER (WHERE status IN ('todo','in_progress','blocked') AND due < DATE '{TODAY}'),
        epoch(min(done_at)), epoch(max(done_at)) FROM task_view GROUP BY 1""",
    "delay_reasons": "SELECT delay_reason, count(*) n FROM task_view WHERE delay_reason <> '' "
    "GROUP BY 1 ORDER BY n DESC",
    "conversion": """SELECT business_line, count(*), count(submitted_at), count(approved_at), count(rejected_at),
        count(*) FILTER (WHERE conflict_count > 0) FROM project_view GROUP BY 1""",
}


def duck_run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, str] | None) -> Any:
    return con.execute(sql, params).fetchall() if params else con.execute(sql).fetchall()


def timed(fn: Callable[[], Any], repeat: int) -> float:
    fn()  # warm-up (caches, plans)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def store_queries(engine: sa.Engine, rnd: random.Random, n_projects: int) -> dict[str, Callable[[], Any]]:
    everything = store.Scope(all_projects=True)
    some_ids = tuple(f"p{rnd.randrange(n_projects):07d}" for _ in range(500))
    queries: dict[str, Callable[[], Any]] = {
        "project_view": lambda: store.project_report(engine, project_id=f"p{rnd.randrange(n_projects):07d}", now=NOW),
        "portfolio": lambda: store.portfolio(engine, scope=everything, now=NOW, limit=50),
        "portfolio_dept": lambda: store.portfolio(
            engine, scope=store.Scope(all_projects=True, filters=store.Filters(department_id="d7")), now=NOW, limit=50
        ),
        "portfolio_500_ids": lambda: store.portfolio(
            engine, scope=store.Scope(all_projects=False, project_ids=some_ids), now=NOW, limit=50
        ),
    }
    for report in analytics.REPORTS:
        queries[report] = lambda report=report: analytics.run(  # type: ignore[misc]
            engine, report=report, group_by="", scope=everything, now=NOW
        )
    return queries


TARGETS = {"project_view": 5, "portfolio": 200, "portfolio_dept": 200, "portfolio_500_ids": 200}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--tasks-per-project", type=int, default=13, help="per active/closed project (75%% of all)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--pg-url", default=os.environ.get("BAOBEI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args(argv)

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bb-bench-reporting-") as tmp:
        data = Path(tmp)
        t0 = time.perf_counter()
        counts = generate(data, args.projects, args.tasks_per_project)
        print(f"generated {counts} in {time.perf_counter() - t0:.1f}s", flush=True)

        backends: list[tuple[str, str]] = [("sqlite", f"sqlite:///{data / 'reporting.db'}")]
        pg_admin = None
        pg_name = f"bb_bench_reporting_{uuid.uuid4().hex[:8]}"
        if not args.no_pg:
            pg_admin = sa.create_engine(normalise_url(args.pg_url), isolation_level="AUTOCOMMIT")
            with pg_admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{pg_name}"')
            backends.append(("postgresql", args.pg_url.rstrip("/").rsplit("/", 1)[0] + f"/{pg_name}"))
        try:
            for name, url in backends:
                upgrade("reporting", url)
                t0 = time.perf_counter()
                (load_sqlite if name == "sqlite" else load_pg)(normalise_url(url), data)
                print(f"loaded {name} in {time.perf_counter() - t0:.1f}s", flush=True)
                engine = make_engine(url)
                t0 = time.perf_counter()
                summarise(engine)
                print(f"summary tables of {name} recomputed in {time.perf_counter() - t0:.1f}s", flush=True)
                for label, fn in store_queries(engine, random.Random(1), args.projects).items():
                    results.setdefault(label, {})[name] = timed(fn, args.repeat)
                engine.dispose()
            t0 = time.perf_counter()
            con = load_duckdb(data)
            print(f"loaded duckdb in {time.perf_counter() - t0:.1f}s", flush=True)
            rnd = random.Random(1)
            for label, sql in DUCK_QUERIES.items():
                if "$pid" in sql:
                    params: dict[str, str] | None = {"pid": f"p{rnd.randrange(args.projects):07d}"}
                else:
                    params = None
                results[label]["duckdb"] = timed(partial(duck_run, con, sql, params), args.repeat)
            con.close()
        finally:
            if pg_admin is not None:
                with pg_admin.connect() as conn:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
                pg_admin.dispose()

    names = [b for b, _ in backends]
    header = f"{'query':<20} {'target':>8} " + " ".join(f"{n + ' ms':>14}" for n in names) + f" {'duckdb ms':>10} "
    header += " ".join(f"{n[:6] + '/duck':>12}" for n in names)
    print(
        f"\n{counts['project_view']:,} projects, {counts['task_view']:,} tasks, {counts['cost_entry']:,} costs, "
        f"{counts['approval_step_view']:,} approval steps; median of {args.repeat} runs"
    )
    print(header)
    print("-" * len(header))
    for label, r in results.items():
        target = TARGETS.get(label, 500)
        duck = r.get("duckdb")
        cells = " ".join(f"{r[n]:>14.1f}" for n in names)
        ratios = " ".join(f"{r[n] / duck:>12.1f}" if duck else f"{'-':>12}" for n in names)
        print(f"{label:<20} {target:>8} {cells} {duck if duck is not None else float('nan'):>10.1f} {ratios}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
