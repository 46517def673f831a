"""Soak: N projects waiting in approval with SLA timers on a real ``baobei dev``; the worker's
memory while they wait; a full stop/start of the stack; every one of them resumed.

1. A one-step policy with an SLA (reminder at half, escalation at the end): each waiting project
   holds durable timers in its workflow.
2. N projects created and submitted over HTTP (``--concurrency`` at a time); counted waiting in
   approval through Temporal's visibility (``BaobeiStage = "approval"``).
3. Worker RSS (from /proc) before the projects, after them, and its peak (VmHWM).
4. ``baobei dev`` stopped (Ctrl-C) and started again on the same data dir; time until it is
   ready, then until every project's workflow answered its state query in the restarted worker
   (each is replayed from its history) with stage ``approval``: the count is checked.
5. Worker RSS after all N were replayed (the bounded workflow cache keeps it flat).

    .venv/bin/python -m bench.soak [--n 10000] [--concurrency 20] [--data-dir DIR] [--cache N]

Prints a table; exits non-zero when a project did not resume."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import psutil
import structlog
from temporalio.client import Client

from bench.lifecycle import bounded
from bench.stack_procs import rss_mib, stack_processes
from cli.devstack import DevStack, launch, stack_env
from workflows.contracts.lifecycle import QUERY_STATE, WORKFLOW_TYPE, workflow_id

log = structlog.get_logger(__name__)
# 409: the same Idempotency-Key still in flight (a retry after a timeout).
RETRIED = {409, 429, 502, 503, 504}


def worker_of(stack: DevStack) -> psutil.Process:
    assert stack.proc is not None
    return stack_processes(stack.proc.pid)["worker"]


def peak_mib(proc: psutil.Process) -> float:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def set_up(stack: DevStack) -> tuple[httpx.AsyncClient, str]:
    """A sales rep and their manager; a form whose one step has an 8-working-hour SLA."""
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=stack.base, headers={"Authorization": f"Bearer {stack.token}"},
                                 timeout=60) as admin:
        org = {
            "departments": [{"id": f"d-{run}", "name": "销售部", "manager_id": f"boss-{run}"}],
            "users": [
                {"id": f"rep-{run}", "name": "销售", "department_id": f"d-{run}", "roles": ["sales"]},
                {"id": f"boss-{run}", "name": "经理", "department_id": f"d-{run}", "roles": ["manager"]},
            ],
        }
        (await admin.put("/api/v1/org", json=org)).raise_for_status()
        token = (await admin.post(f"/api/v1/users/rep-{run}/tokens")).json()["token"]
        form = f"soak-{run}"
        fields = [{"key": "phone", "label": "电话", "type": "phone"}]
        (await admin.put(f"/api/v1/forms/{form}", json={"title": "报备", "fields": fields})).raise_for_status()
        step = {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "sla": "8wh", "remind_at": 0.5,
                "on_timeout": "escalate", "escalate_to": {"type": "user", "user_id": f"boss-{run}"}}
        policy = {"form_key": form, "steps": [step]}
        (await admin.put(f"/api/v1/approval-policies/{form}", json=policy)).raise_for_status()
    rep = httpx.AsyncClient(base_url=stack.base, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    return rep, form


async def create(rep: httpx.AsyncClient, form: str, i: int) -> str:
    """Create and submit one project; retried on overload (429/5xx) under the same Idempotency-Key,
    so a retry never makes a second project. "" when it kept failing (e.g. a retry after a
    timed-out answer finds the project already submitted: it waits, but its id is unknown)."""
    # Unrelated names, fixed per project (a retry sends the same body): near-identical names made
    # each project a conflict (撞单) of every earlier one, and those ever-longer conflict lists in
    # the cached workflows' payloads were the "growth beyond the cache" (docs/performance.md).
    tag = hashlib.sha256(f"{form}-{i}".encode()).hexdigest()
    body = {"form_key": form, "name": f"浸泡项目{tag[:16]}", "customer": {"name": f"浸泡客户{tag[16:32]}"},
            "amount": "10000.00", "fields": {"phone": "13800138000"}, "submit": True}
    headers = {"Idempotency-Key": f"{form}-{i}"}
    last = ""
    for attempt in range(8):
        try:
            r = await rep.post("/api/v1/projects", json=body, headers=headers)
        except httpx.TransportError as err:
            last = repr(err)
            await asyncio.sleep(attempt + 1)
            continue
        if r.status_code not in RETRIED:
            r.raise_for_status()
            return str(r.json()["id"])
        last = f"{r.status_code} {r.text[:300]}"
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")) * (attempt + 1))
    log.warning("soak.create_failed", i=i, last=last)
    return ""


async def waiting(address: str) -> int:
    client = await Client.connect(address)
    query = f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND BaobeiStage = 'approval'"
    return (await client.count_workflows(query)).count


async def wait_waiting(address: str, n: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count = await waiting(address)
        if count >= n:
            break
        await asyncio.sleep(1)
    return count


async def resumed(address: str, pids: list[str], concurrency: int) -> int:
    """How many of the projects' workflows answer their state query with stage ``approval``."""
    client = await Client.connect(address)

    async def one(pid: str) -> bool:
        state = await client.get_workflow_handle(workflow_id(pid)).query(QUERY_STATE)
        return bool(state.get("stage") == "approval") if isinstance(state, dict) else False

    return sum(await bounded(concurrency, [partial(one, p) for p in pids]))


@dataclass
class Soak:
    unknown: int = 0  # projects whose creation answer never came back (they may still wait)
    created_s: float = 0.0
    count_before: int = 0
    rss_before: float = 0.0
    rss_after: float = 0.0
    rss_peak: float = 0.0
    ready_s: float = 0.0
    resumed: int = 0
    resume_s: float = 0.0
    count_after: int = 0
    rss_resumed: float = 0.0
    rss_resumed_peak: float = 0.0


async def soak(stack: DevStack, n: int, concurrency: int) -> Soak:
    out = Soak()
    address = stack.env["BAOBEI_TEMPORAL_ADDRESS"]
    rep, form = await set_up(stack)
    await create(rep, form, -1)  # warm-up: the worker's imports and connections
    await asyncio.sleep(2)
    worker = worker_of(stack)
    out.rss_before = rss_mib(worker)
    started = time.perf_counter()
    created = await bounded(concurrency, [partial(create, rep, form, i) for i in range(n)])
    pids = [p for p in created if p]
    out.unknown = n - len(pids)
    await rep.aclose()
    out.created_s = time.perf_counter() - started
    out.count_before = await wait_waiting(address, n + 1, 600)
    await asyncio.sleep(5)
    out.rss_after, out.rss_peak = rss_mib(worker), peak_mib(worker)
    stack.stop()
    restarted = time.perf_counter()
    stack.start()
    out.ready_s = time.perf_counter() - restarted
    out.resumed = await resumed(address, pids, concurrency)
    out.resume_s = time.perf_counter() - restarted
    out.count_after = await waiting(address)
    worker = worker_of(stack)
    out.rss_resumed, out.rss_resumed_peak = rss_mib(worker), peak_mib(worker)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--data-dir", default="", help="the stack's data dir (default: a temporary one)")
    parser.add_argument("--cache", type=int, default=0,
                        help="BAOBEI_WORKER_MAX_CACHED_WORKFLOWS for the stack (0: the default)")
    args = parser.parse_args()
    env = stack_env()
    if args.cache:
        env["BAOBEI_WORKER_MAX_CACHED_WORKFLOWS"] = str(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        stack = launch(Path(args.data_dir or tmp), env)
        try:
            s = asyncio.run(soak(stack, args.n, args.concurrency))
        finally:
            stack.stop()
    rows = [
        ("projects waiting in approval (SLA timers)", str(args.n), ""),
        ("created + submitted over HTTP", f"{s.created_s:.0f} s", f"({args.n / s.created_s:.1f}/s)"),
        ("waiting (visibility count, + 1 warm-up) before restart", str(s.count_before), ""),
        ("worker RSS before the projects", f"{s.rss_before:.0f}", "MiB"),
        ("worker RSS with them waiting / peak", f"{s.rss_after:.0f} / {s.rss_peak:.0f}", "MiB (goal ≤ 300)"),
        ("worker RSS per waiting project", f"{(s.rss_after - s.rss_before) * 1024 / args.n:.0f}", "KiB"),
        ("stop + start: stack ready after", f"{s.ready_s:.1f}", "s"),
        ("creations without an answer (ids unknown, not queried)", str(s.unknown), ""),
        ("resumed (state query answered, stage approval)", f"{s.resumed} / {args.n - s.unknown}", ""),
        ("time to resume all (from start)", f"{s.resume_s:.1f}", "s"),
        ("waiting (visibility count) after restart", str(s.count_after), ""),
        ("worker RSS after replaying all / peak", f"{s.rss_resumed:.0f} / {s.rss_resumed_peak:.0f}", "MiB"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value, unit in rows:
        print(f"{name.ljust(width)}  {value} {unit}".rstrip())
    if s.resumed != args.n - s.unknown or s.count_after < s.count_before:
        sys.exit(1)


if __name__ == "__main__":
    main()
