"""Lifecycle benchmark on a real ``baobei dev``, against a fixed bare baseline run on the same
Temporal dev server in the same run.

1. Throughput: N projects through a one-step policy over HTTP (create+submit → the approver's
   to-do → approve → active), ``--concurrency`` at a time; beside it N bare workflows (4 no-op
   activities and one signal, ``bench.bare_workflow``) at the same concurrency. Goal: ratio ≥ 0.5.
2. Decisions, on a two-step policy (projects waiting on step 1): the decision's HTTP answer one at
   a time (p50/p99) and ``--concurrency`` at a time (p50/p99); after each one-at-a-time answer,
   how long until the step-2 approver's to-do is visible (``GET /me/todos`` polled every 10 ms;
   the throughput run polls every 50 ms).
3. CPU seconds per project of each process of the stack during the throughput run (where the
   time goes); with ``--profile DIR`` py-spy records every Python process meanwhile (collapsed
   stacks, ``DIR/<role>.txt``; summarise with ``python -m bench.spy_summary DIR``).

4. With ``--telemetry``: the whole run twice on fresh stacks, tracing and metrics off, then both on
   (``BAOBEI_OTLP_ENDPOINT`` → a local OTLP sink that counts and discards, every trace sampled),
   and the cost of tracing (goal ≤ 10%).

    .venv/bin/python -m bench.lifecycle [--n 100] [--concurrency 20] [--decisions 60] [--profile DIR]
                                        [--telemetry [--trace-ratio 0.1]]

Prints a table (with ``--telemetry``: one per variant, then the comparison)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_workflow import BARE_ACTIVITIES, BenchBare, noop
from bench.otlp_sink import OtlpSink
from bench.stack_procs import Profiler, cpu_seconds, stack_processes
from cli.devstack import DevStack, launch, stack_env

# The throughput run polls for to-dos like a busy UI would; the to-do latency is polled finely
# (one poller at a time).
POLL_SECONDS = 0.05
FINE_POLL_SECONDS = 0.01


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bounded(concurrency: int, jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs)))


@dataclass
class People:
    run: str
    rep: httpx.AsyncClient
    boss: httpx.AsyncClient
    director: httpx.AsyncClient
    one_step: str  # form keys
    two_step: str

    async def aclose(self) -> None:
        for c in (self.rep, self.boss, self.director):
            await c.aclose()


async def set_up(base: str, token: str) -> People:
    """A sales rep, their manager (step 1) and a director (step 2); a one-step and a two-step form."""
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as admin:
        org = {
            "departments": [{"id": f"d-{run}", "name": "销售部", "manager_id": f"boss-{run}"}],
            "users": [
                {"id": f"rep-{run}", "name": "销售", "department_id": f"d-{run}", "roles": ["sales"]},
                {"id": f"boss-{run}", "name": "经理", "department_id": f"d-{run}", "roles": ["manager"]},
                {"id": f"dir-{run}", "name": "总监", "department_id": f"d-{run}", "roles": [f"director-{run}"]},
            ],
        }
        (await admin.put("/api/v1/org", json=org)).raise_for_status()
        tokens = {u: (await admin.post(f"/api/v1/users/{u}-{run}/tokens")).json()["token"]
                  for u in ("rep", "boss", "dir")}
        manager = {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}
        director = {"name": "总监审批", "approvers": {"type": "role", "role": f"director-{run}"}}
        fields = [{"key": "phone", "label": "电话", "type": "phone"}]
        for form, steps in ((f"one-{run}", [manager]), (f"two-{run}", [{**manager, "sla": "8wh"}, director])):
            (await admin.put(f"/api/v1/forms/{form}", json={"title": "报备", "fields": fields})).raise_for_status()
            policy = {"form_key": form, "steps": steps}
            (await admin.put(f"/api/v1/approval-policies/{form}", json=policy)).raise_for_status()

    def client(user: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {tokens[user]}"}, timeout=120)

    return People(run, client("rep"), client("boss"), client("dir"), f"one-{run}", f"two-{run}")


async def create(people: People, form: str, i: int) -> str:
    # Unrelated names per project: near-identical ones made each project a conflict (撞单) of
    # every earlier one in the run, so later projects carried ever-longer conflict lists.
    tag = hashlib.sha256(f"{people.run}-{form}-{i}".encode()).hexdigest()
    body = {"form_key": form, "name": f"压测项目{tag[:16]}",
            "customer": {"name": f"压测客户{tag[16:32]}"},
            "amount": "10000.00", "fields": {"phone": "13800138000"}, "submit": True}
    r = await people.rep.post("/api/v1/projects", json=body)
    r.raise_for_status()
    return str(r.json()["id"])


async def todo_of(client: httpx.AsyncClient, pid: str, poll: float = POLL_SECONDS, timeout: float = 60) -> str:
    """The id of ``client``'s to-do on project ``pid``, polled until it shows."""
    for _ in range(int(timeout / poll)):
        items = (await client.get("/api/v1/me/todos")).json()["items"]
        for t in items:
            if t["project_id"] == pid:
                return str(t["id"])
        await asyncio.sleep(poll)
    raise RuntimeError(f"no to-do for {pid}")


# Where a project's wall time goes in the throughput run (ms per phase, one list per phase).
PHASES: dict[str, list[float]] = {"create+submit": [], "to-do shown": [], "decision": []}


async def bench_projects(people: People, n: int, concurrency: int) -> float:
    for times in PHASES.values():
        times.clear()

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        pid = await create(people, people.one_step, i)
        t1 = time.perf_counter()
        task = await todo_of(people.boss, pid)
        t2 = time.perf_counter()
        r = await people.boss.post(f"/api/v1/approval-tasks/{task}/decision", json={"action": "approve"})
        r.raise_for_status()
        if r.json()["status"] != "active":
            raise RuntimeError(f"{pid} is {r.json()['status']} after approval")
        t3 = time.perf_counter()
        for phase, ms in zip(PHASES, ((t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000), strict=True):
            PHASES[phase].append(ms)

    started = time.perf_counter()
    await bounded(concurrency, [partial(one, i) for i in range(n)])
    return n / (time.perf_counter() - started)


async def bench_bare(temporal_address: str, n: int, concurrency: int) -> float:
    client = await Client.connect(temporal_address)
    queue = f"bench-{uuid.uuid4().hex[:6]}"

    async def one(i: int) -> None:
        handle = await client.start_workflow(BenchBare.run, BARE_ACTIVITIES, id=f"{queue}-{i}", task_queue=queue)
        await handle.signal(BenchBare.go)
        await handle.result()

    async with Worker(client, task_queue=queue, workflows=[BenchBare], activities=[noop]):
        started = time.perf_counter()
        await bounded(concurrency, [partial(one, i) for i in range(n)])
        return n / (time.perf_counter() - started)


@dataclass
class Decisions:
    serial_ms: list[float]
    concurrent_ms: list[float]
    next_todo_ms: list[float]  # after the decision's answer, one at a time
    # CPU seconds per concurrent decision, by process: until the last answer, and what followed
    # (the next step's approval requests and events relayed) in the second after it.
    burst_cpu: dict[str, float] = field(default_factory=dict)
    after_cpu: dict[str, float] = field(default_factory=dict)


async def waiting_decisions(people: People, total: int, concurrency: int) -> tuple[list[str], list[str]]:
    """``total`` projects waiting on step 1 of the two-step policy: their ids and the manager's
    task of each."""
    pids = await bounded(concurrency, [partial(create, people, people.two_step, i) for i in range(total)])
    return pids, await bounded(concurrency, [partial(todo_of, people.boss, p) for p in pids])


async def decide(people: People, task: str) -> float:
    """The manager approves ``task`` over HTTP: the answer's time in ms."""
    started = time.perf_counter()
    r = await people.boss.post(f"/api/v1/approval-tasks/{task}/decision", json={"action": "approve"})
    r.raise_for_status()
    return (time.perf_counter() - started) * 1000


async def bench_decisions(
    people: People, serial: int, concurrent: int, concurrency: int, procs: dict[str, psutil.Process] | None = None
) -> Decisions:
    pids, tasks = await waiting_decisions(people, serial + concurrent, concurrency)

    out = Decisions([], [], [])
    for pid, task in zip(pids[:serial], tasks[:serial], strict=True):
        out.serial_ms.append(await decide(people, task))
        answered = time.perf_counter()
        await todo_of(people.director, pid, FINE_POLL_SECONDS)
        out.next_todo_ms.append((time.perf_counter() - answered) * 1000)
    before = cpu_seconds(procs or {})
    out.concurrent_ms = await bounded(concurrency, [partial(decide, people, t) for t in tasks[serial:]])
    last_answer = cpu_seconds(procs or {})
    await asyncio.sleep(1)
    after = cpu_seconds(procs or {})
    n = max(concurrent, 1)
    out.burst_cpu = {role: (last_answer[role] - before[role]) / n for role in last_answer}
    out.after_cpu = {role: (after[role] - last_answer[role]) / n for role in after}
    return out


async def temporal_work(address: str, since: datetime) -> Counter[str]:
    """Workflow executions by type started since ``since``, with their activities and history events."""
    client = await Client.connect(address)
    counts: Counter[str] = Counter()
    query = f"StartTime > '{since.isoformat().replace('+00:00', 'Z')}'"
    async for wf in client.list_workflows(query):
        counts[f"workflow {wf.workflow_type}"] += 1
        history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        counts["history events"] += len(history.events)
        for event in history.events:
            kind = EventType.Name(event.event_type)
            if kind == "EVENT_TYPE_ACTIVITY_TASK_SCHEDULED":
                counts["activities"] += 1
                counts[f"  activity {event.activity_task_scheduled_event_attributes.activity_type.name}"] += 1
            elif kind == "EVENT_TYPE_MARKER_RECORDED":
                marker = event.marker_recorded_event_attributes
                if marker.marker_name == "core_local_activity" and "data" in marker.details:
                    counts["local activities"] += 1
                    data = json.loads(marker.details["data"].payloads[0].data)
                    counts[f"  local activity {data.get('activity_type', '?')}"] += 1
                else:
                    counts["markers (patches)"] += 1
            elif kind == "EVENT_TYPE_WORKFLOW_TASK_COMPLETED":
                counts["workflow tasks"] += 1
    return counts


async def run_all(stack: DevStack, args: argparse.Namespace) -> Results:
    assert stack.proc is not None
    procs = stack_processes(stack.proc.pid)
    people = await set_up(stack.base, stack.token)
    await bench_projects(people, min(10, args.n), args.concurrency)  # warm-up: imports, caches, connections
    await asyncio.sleep(1)  # the warm-up's notifications delivered
    since = datetime.now(UTC)
    before, client_before = cpu_seconds(procs), cpu_seconds({"bench": psutil.Process()})
    if args.profile:
        with Profiler(Path(args.profile), procs):
            projects_per_s = await bench_projects(people, args.n, args.concurrency)
    else:
        projects_per_s = await bench_projects(people, args.n, args.concurrency)
    client_cpu = (cpu_seconds({"bench": psutil.Process()})["bench"] - client_before["bench"]) / args.n
    await asyncio.sleep(1)
    after = cpu_seconds(procs)
    cpu = {role: (after[role] - before[role]) / args.n for role in procs}
    work = await temporal_work(stack.env["BAOBEI_TEMPORAL_ADDRESS"], since)
    decisions = await bench_decisions(people, args.decisions, args.decisions, args.concurrency, procs)
    await people.aclose()
    temporal = {"temporal": procs["temporal"]} if "temporal" in procs else {}
    before = cpu_seconds({**temporal, "bench": psutil.Process()})
    bare_per_s = await bench_bare(stack.env["BAOBEI_TEMPORAL_ADDRESS"], args.n, args.concurrency)
    after = cpu_seconds({**temporal, "bench": psutil.Process()})
    bare_cpu = {role: (after[role] - before[role]) / args.n for role in after}
    return Results(projects_per_s, bare_per_s, decisions, cpu, bare_cpu,
                   {k: v / args.n for k, v in work.items()}, client_cpu)


@dataclass
class Results:
    projects_per_s: float
    bare_per_s: float
    decisions: Decisions
    cpu: dict[str, float]  # CPU seconds per project, by process
    bare_cpu: dict[str, float]  # CPU seconds per bare workflow: Temporal, and this process (its worker)
    work: dict[str, float]  # Temporal work per project
    # This process's CPU per project in the throughput run (its HTTP clients and to-do polls): it
    # shares the 2 cores with the stack but is not part of the stack's total.
    client_cpu: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100, help="projects (and bare workflows) in the throughput run")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--decisions", type=int, default=60, help="decisions one at a time, and as many concurrent")
    parser.add_argument("--profile", default="", help="directory for py-spy's collapsed stacks per process")
    parser.add_argument("--telemetry", action="store_true",
                        help="run twice, tracing and metrics off then on (OTLP to a local sink), and compare")
    parser.add_argument("--trace-ratio", type=float, default=1.0,
                        help="with --telemetry: share of traces kept (1 = all; e.g. 0.1 as in production)")
    args = parser.parse_args()
    if not args.telemetry:
        print_results(run_stack(args, {}), args)
        return
    # Off: no tracing and no metrics (no /metrics, no per-RPC or per-request hooks, no SDK export).
    off = run_stack(args, {"BAOBEI_METRICS_ENABLED": "false"})
    # Every trace kept by default: the worst case of what an operator might switch on.
    sampler = ({"OTEL_TRACES_SAMPLER": "always_on"} if args.trace_ratio >= 1 else
               {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": str(args.trace_ratio)})
    with OtlpSink() as sink:
        on = run_stack(args, {"BAOBEI_OTLP_ENDPOINT": sink.endpoint, **sampler})
        spans = sink.spans
    for title, res in (("tracing and metrics off", off), ("tracing and metrics on", on)):
        print(f"\n== {title}")
        print_results(res, args)
    print_comparison(off, on, spans, args)


def run_stack(args: argparse.Namespace, extra_env: dict[str, str]) -> Results:
    """One full run on a fresh stack whose processes get ``extra_env``."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = launch(Path(tmp), {**stack_env(), **extra_env})
        try:
            return asyncio.run(run_all(stack, args))
        finally:
            stack.stop()


def print_comparison(off: Results, on: Results, spans: int, args: argparse.Namespace) -> None:
    def change(before: float, after: float) -> str:
        return f"{(after - before) / before:+.1%}" if before else "-"

    d0, d1 = off.decisions, on.decisions
    rows = [
        ("projects/s over HTTP", off.projects_per_s, on.projects_per_s),
        ("decision answered, one at a time, p50 ms", statistics.median(d0.serial_ms), statistics.median(d1.serial_ms)),
        ("decision answered, one at a time, p99 ms", pct(d0.serial_ms, 0.99), pct(d1.serial_ms, 0.99)),
        (f"decision answered, {args.concurrency} at a time, p50 ms",
         statistics.median(d0.concurrent_ms), statistics.median(d1.concurrent_ms)),
        ("CPU per project, all stack processes, ms", sum(off.cpu.values()) * 1000, sum(on.cpu.values()) * 1000),
    ]
    rows += [(f"  CPU per project: {role}, ms", off.cpu[role] * 1000, on.cpu.get(role, 0.0) * 1000)
             for role in sorted(off.cpu, key=lambda r: -off.cpu[r])]
    width = max(len(r[0]) for r in rows)
    print("\n== cost of tracing (goal ≤ 10%)")
    print(f"{'metric'.ljust(width)}  {'off':>9}  {'on':>9}  change")
    for name, before, after in rows:
        print(f"{name.ljust(width)}  {before:9.1f}  {after:9.1f}  {change(before, after)}")
    print(f"spans exported to the sink: {spans}")


def print_results(res: Results, args: argparse.Namespace) -> None:
    projects_per_s, bare_per_s, d, cpu = res.projects_per_s, res.bare_per_s, res.decisions, res.cpu
    rows = [
        ("projects (create+submit → approve → active), one-step policy", str(args.n), ""),
        ("concurrency", str(args.concurrency), ""),
        ("projects/s over HTTP", f"{projects_per_s:.2f}", "/s"),
        (f"bare workflows/s ({BARE_ACTIVITIES} no-op activities + 1 signal)", f"{bare_per_s:.2f}", "/s"),
        ("ratio projects / bare", f"{projects_per_s / bare_per_s:.2f}", "(goal ≥ 0.5)"),
        *((f"throughput run, {phase}, p50 / p99", f"{statistics.median(ms):.0f} / {pct(ms, 0.99):.0f}", "ms")
          for phase, ms in PHASES.items() if ms),
        ("decision answered, one at a time, p50 / p99",
         f"{statistics.median(d.serial_ms):.0f} / {pct(d.serial_ms, 0.99):.0f}", "ms (goal ≤ 60 / 150)"),
        (f"decision answered, {args.concurrency} at a time, p50 / p99",
         f"{statistics.median(d.concurrent_ms):.0f} / {pct(d.concurrent_ms, 0.99):.0f}", "ms (goal p50 ≤ 500)"),
        ("next approver's to-do visible after the answer, p50 / p99",
         f"{statistics.median(d.next_todo_ms):.0f} / {pct(d.next_todo_ms, 0.99):.0f}", "ms (goal p50 ≤ 150)"),
    ]
    total = sum(cpu.values())
    rows.append(("CPU per project, all stack processes", f"{total * 1000:.0f}", "ms"))
    for role, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
        rows.append((f"  CPU per project: {role}", f"{seconds * 1000:.0f}", f"ms ({seconds / total:.0%})"))
    rows.append(("CPU per project: this bench's HTTP clients (not in the total)", f"{res.client_cpu * 1000:.0f}", "ms"))
    if d.burst_cpu:
        burst, after = sum(d.burst_cpu.values()), sum(d.after_cpu.values())
        rows.append((f"CPU per decision ({args.concurrency} at a time): until the last answer / the second after",
                     f"{burst * 1000:.1f} / {after * 1000:.1f}", "ms"))
        for role in sorted(d.burst_cpu, key=lambda r: -d.burst_cpu[r]):
            rows.append((f"  CPU per decision: {role}",
                         f"{d.burst_cpu[role] * 1000:.1f} / {d.after_cpu.get(role, 0.0) * 1000:.1f}", "ms"))
    for role, seconds in sorted(res.bare_cpu.items()):
        rows.append((f"CPU per bare workflow: {role}", f"{seconds * 1000:.0f}", "ms"))
    for what, per in sorted(res.work.items()):
        rows.append((f"Temporal per project: {what}", f"{per:.1f}", ""))
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value, unit in rows:
        print(f"{name.ljust(width)}  {value} {unit}".rstrip())


if __name__ == "__main__":
    main()
