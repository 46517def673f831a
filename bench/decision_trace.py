"""Where a decision's answer time goes, hop by hop, on a real ``baobei dev`` (issue 15).

Projects wait on step 1 of a two-step policy; the manager decides them one at a time over HTTP.
With tracing on (OTLP to a local sink that keeps the spans, every trace sampled) each decision's
spans — the edge's HTTP span, its gRPC calls, the Temporal update, the worker's update handler and
local activities, the services' gRPC handlers and SQL — are laid out against the HTTP call's
start: per span, the median start offset and duration over the decisions. Spans of other traces
(the workflow's main loop opening step 2 runs under the workflow's trace) are caught by time:
decisions run one at a time, so every span inside the call belongs to it.

``--no-trace``: the same decisions with tracing off, answer p50/p99 one at a time and
``--concurrency`` at a time only (a quick A/B of a change without ``bench.lifecycle``'s
throughput run).

    .venv/bin/python -m bench.decision_trace [--decisions 30] [--no-trace] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections import defaultdict
from functools import partial
from pathlib import Path

from bench.lifecycle import bounded, decide, pct, set_up, waiting_decisions
from bench.otlp_sink import OtlpSink, Span
from bench.stack_procs import Profiler, cpu_seconds, stack_processes
from cli.devstack import launch, stack_env


async def decisions(base: str, token: str, serial: int, concurrent: int, concurrency: int, supervisor: int,
                    profile: str) -> tuple[list[tuple[int, int]], list[float]]:
    """(start, end) ns of each one-at-a-time decision; the concurrent ones' answer times in ms.
    Prints the CPU per one-at-a-time decision of each process; with ``profile`` py-spy records
    them meanwhile."""
    people = await set_up(base, token)
    warm = 5
    total = warm + serial + concurrent
    _, tasks = await waiting_decisions(people, total, concurrency)

    calls: list[tuple[int, int]] = []
    procs = stack_processes(supervisor)
    for task in tasks[:warm]:
        await decide(people, task)
    await asyncio.sleep(1)
    before = cpu_seconds(procs)
    with Profiler(Path(profile), procs) if profile else contextlib.nullcontext():
        for task in tasks[warm: warm + serial]:
            await asyncio.sleep(0.2)  # the previous decision's trailing work (mails, reports) done
            t0 = time.time_ns()
            await decide(people, task)
            calls.append((t0, time.time_ns()))
        await asyncio.sleep(0.5)
    after = cpu_seconds(procs)
    print("CPU per decision (one at a time), ms: " + ", ".join(
        f"{role} {(after[role] - before[role]) / serial * 1000:.1f}"
        for role in sorted(procs, key=lambda r: before[r] - after[r])))
    together = await bounded(concurrency, [partial(decide, people, t) for t in tasks[warm + serial:]])
    await people.aclose()
    return calls, together


def breakdown(calls: list[tuple[int, int]], spans: list[Span]) -> None:
    rows: dict[tuple[str, str, int], list[tuple[float, float]]] = defaultdict(list)
    for t0, t1 in calls:
        inside = sorted((s for s in spans if t0 <= s.start <= t1), key=lambda s: s.start)
        seen: dict[tuple[str, str], int] = defaultdict(int)
        for s in inside:
            key = (s.service.removeprefix("baobei-"), s.name)
            n = seen[key]
            seen[key] += 1
            rows[(*key, n)].append(((s.start - t0) / 1e6, (s.end - s.start) / 1e6))
    total = [(t1 - t0) / 1e6 for t0, t1 in calls]
    print(f"decisions: {len(calls)}; HTTP answer p50 {statistics.median(total):.1f} ms, "
          f"p99 {pct(total, 0.99):.1f} ms (tracing on)")
    print(f"{'start ms':>9} {'dur ms':>8}  {'seen':>4}  process  span")
    ordered = sorted(rows.items(), key=lambda kv: statistics.median(v[0] for v in kv[1]))
    for (service, name, n), vals in ordered:
        if len(vals) < len(calls) // 2:
            continue  # not part of every decision (a poller's tick)
        start = statistics.median(v[0] for v in vals)
        dur = statistics.median(v[1] for v in vals)
        print(f"{start:9.1f} {dur:8.1f}  {len(vals):4d}  {service:8} {name}{f' #{n + 1}' if n else ''}")
    t0, t1 = sorted(calls, key=lambda c: c[1] - c[0])[len(calls) // 2]
    print(f"\nthe median decision ({(t1 - t0) / 1e6:.1f} ms), its spans but SQL statements:")
    for s in sorted((s for s in spans if t0 <= s.start <= t1), key=lambda s: s.start):
        if s.name.split(" ")[0] not in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            print(f"{(s.start - t0) / 1e6:9.1f} {(s.end - s.start) / 1e6:8.1f}        "
                  f"{s.service.removeprefix('baobei-'):8} {s.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--decisions", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--no-trace", action="store_true")
    parser.add_argument("--profile", default="", help="py-spy every process during the one-at-a-time decisions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, OtlpSink(keep=True) as sink:
        env = stack_env()
        if not args.no_trace:
            env.update(BAOBEI_OTLP_ENDPOINT=sink.endpoint, OTEL_TRACES_SAMPLER="always_on",
                       OTEL_BSP_SCHEDULE_DELAY="500")
        stack = launch(Path(tmp), env)
        try:
            calls, together = asyncio.run(decisions(
                stack.base, stack.token, args.decisions, 0 if not args.no_trace else args.decisions,
                args.concurrency, stack.proc.pid if stack.proc else 0, args.profile))
            time.sleep(2)  # the batch span processors export
        finally:
            stack.stop()
        if args.no_trace:
            serial = [(t1 - t0) / 1e6 for t0, t1 in calls]
            print(f"decision answered one at a time p50 / p99: {statistics.median(serial):.0f} / "
                  f"{pct(serial, 0.99):.0f} ms; {args.concurrency} at a time p50 / p99: "
                  f"{statistics.median(together):.0f} / {pct(together, 0.99):.0f} ms")
        else:
            breakdown(calls, sink.kept)


if __name__ == "__main__":
    main()
