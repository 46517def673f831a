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

    .venv/bin/python -m bench.soak [--n 10000] [--concurrency 20] [--data-dir DIR]

Prints a table; exits non-zero when a project did not resume."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path

import httpx
import psutil
from temporalio.client import Client

from baobei.devstack import DevStack, launch, stack_env
from bench.lifecycle import bounded
from bench.stack_procs import rss_mib, stack_processes
from workflows.payloads import QUERY_STATE, WORKFLOW_TYPE, workflow_id


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
    body = {"form_key": form, "name": f"浸泡项目{form}-{i}", "customer": {"name": f"浸泡客户{form}-{i}"},
            "amount": "10000.00", "fields": {"phone": "13800138000"}, "submit": True}
    for attempt in range(5):
        r = await rep.post("/api/v1/projects", json=body)
        if r.status_code != 429:
            r.raise_for_status()
            return str(r.json()["id"])
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")) * (attempt + 1))
    r.raise_for_status()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--data-dir", default="", help="the stack's data dir (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(args.data_dir or tmp)
        env = stack_env()
        address = env["BAOBEI_TEMPORAL_ADDRESS"]
        stack = launch(data_dir, env)
        try:
            rep, form = asyncio.run(set_up(stack))
            asyncio.run(create(rep, form, -1))  # warm-up: the worker's imports and connections
            time.sleep(2)
            worker = worker_of(stack)
            rss_before = rss_mib(worker)
            started = time.perf_counter()

            async def create_all() -> list[str]:
                pids = await bounded(args.concurrency, [partial(create, rep, form, i) for i in range(args.n)])
                await rep.aclose()
                return pids

            pids = asyncio.run(create_all())
            created_s = time.perf_counter() - started
            count_before = asyncio.run(wait_waiting(address, args.n + 1, 600))
            time.sleep(5)
            rss_after, rss_peak = rss_mib(worker), peak_mib(worker)
            stack.stop()
            restarted = time.perf_counter()
            stack.start()
            ready_s = time.perf_counter() - restarted
            resumed_count = asyncio.run(resumed(address, pids, args.concurrency))
            resume_s = time.perf_counter() - restarted
            count_after = asyncio.run(waiting(address))
            worker = worker_of(stack)
            rss_resumed, rss_resumed_peak = rss_mib(worker), peak_mib(worker)
        finally:
            stack.stop()
    rows = [
        ("projects waiting in approval (SLA timers)", str(args.n), ""),
        ("created + submitted over HTTP", f"{created_s:.0f} s", f"({args.n / created_s:.1f}/s)"),
        ("waiting (visibility count, + 1 warm-up) before restart", str(count_before), ""),
        ("worker RSS before the projects", f"{rss_before:.0f}", "MiB"),
        ("worker RSS with them waiting / peak", f"{rss_after:.0f} / {rss_peak:.0f}", "MiB (goal ≤ 300)"),
        ("worker RSS per waiting project", f"{(rss_after - rss_before) * 1024 / args.n:.0f}", "KiB"),
        ("stop + start: stack ready after", f"{ready_s:.1f}", "s"),
        ("resumed (state query answered, stage approval)", f"{resumed_count} / {args.n}", ""),
        ("time to resume all (from start)", f"{resume_s:.1f}", "s"),
        ("waiting (visibility count) after restart", str(count_after), ""),
        ("worker RSS after replaying all / peak", f"{rss_resumed:.0f} / {rss_resumed_peak:.0f}", "MiB"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value, unit in rows:
        print(f"{name.ljust(width)}  {value} {unit}".rstrip())
    if resumed_count != args.n:
        sys.exit(1)


if __name__ == "__main__":
    main()
