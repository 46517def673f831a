"""Lifecycle benchmark: N projects through a one-step policy, approved over HTTP, on a real
``baobei dev``; beside it, on the same Temporal dev server in the same run, N bare workflows with the
same number of no-op activities and one signal.

    .venv/bin/python -m bench.lifecycle [--n 100] [--concurrency 20]

Prints a table: projects/s, bare workflows/s, their ratio, decision latency p50/p99."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_workflow import ACTIVITIES_PER_PROJECT, BenchBare, noop
from cli.devstack import launch, stack_env


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def bench_projects(base: str, token: str, n: int, concurrency: int) -> tuple[float, list[float]]:
    run = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as admin:
        org = {
            "departments": [{"id": f"d-{run}", "name": "销售部", "manager_id": f"boss-{run}"}],
            "users": [
                {"id": f"rep-{run}", "name": "销售", "department_id": f"d-{run}", "roles": ["sales"]},
                {"id": f"boss-{run}", "name": "经理", "department_id": f"d-{run}", "roles": ["manager"]},
            ],
        }
        (await admin.put("/api/v1/org", json=org)).raise_for_status()
        rep_token = (await admin.post(f"/api/v1/users/rep-{run}/tokens")).json()["token"]
        boss_token = (await admin.post(f"/api/v1/users/boss-{run}/tokens")).json()["token"]
        form = f"bench-{run}"
        fields = [{"key": "phone", "label": "电话", "type": "phone"}]
        (await admin.put(f"/api/v1/forms/{form}", json={"title": "报备", "fields": fields})).raise_for_status()
        step = {"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}
        policy = {"form_key": form, "steps": [step]}
        (await admin.put(f"/api/v1/approval-policies/{form}", json=policy)).raise_for_status()

    rep = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {rep_token}"}, timeout=60)
    boss = httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {boss_token}"}, timeout=60)
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            body = {
                "form_key": form, "name": f"压测项目{run}-{i}", "customer": {"name": f"压测客户{run}-{i}"},
                "amount": "10000.00", "fields": {"phone": "13800138000"}, "submit": True,
            }
            r = await rep.post("/api/v1/projects", json=body)
            r.raise_for_status()
            pid = r.json()["id"]
            for _ in range(200):
                todos = (await boss.get("/api/v1/me/todos")).json()["items"]
                mine = [t for t in todos if t["project_id"] == pid]
                if mine:
                    break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"no to-do for {pid}")
            started = time.perf_counter()
            r = await boss.post(f"/api/v1/approval-tasks/{mine[0]['id']}/decision", json={"action": "approve"})
            latencies.append((time.perf_counter() - started) * 1000)
            r.raise_for_status()
            if r.json()["status"] != "active":
                raise RuntimeError(f"{pid} is {r.json()['status']} after approval")

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    elapsed = time.perf_counter() - started
    await rep.aclose()
    await boss.aclose()
    return n / elapsed, latencies


async def bench_bare(temporal_address: str, n: int) -> float:
    client = await Client.connect(temporal_address)
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=queue, workflows=[BenchBare], activities=[noop]):
        started = time.perf_counter()
        handles = await asyncio.gather(
            *(
                client.start_workflow(BenchBare.run, ACTIVITIES_PER_PROJECT, id=f"{queue}-{i}", task_queue=queue)
                for i in range(n)
            )
        )
        await asyncio.gather(*(h.signal(BenchBare.go) for h in handles))
        await asyncio.gather(*(h.result() for h in handles))
        return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = stack_env()
        stack = launch(Path(tmp), env)
        try:
            projects_per_s, latencies = asyncio.run(bench_projects(stack.base, stack.token, args.n, args.concurrency))
            bare_per_s = asyncio.run(bench_bare(env["BAOBEI_TEMPORAL_ADDRESS"], args.n))
        finally:
            stack.stop()
    rows = [
        ("projects (create+submit → approve → active)", args.n, ""),
        ("concurrency", args.concurrency, ""),
        ("projects/s over HTTP", f"{projects_per_s:.2f}", "/s"),
        (f"bare workflows/s ({ACTIVITIES_PER_PROJECT} activities + 1 signal)", f"{bare_per_s:.2f}", "/s"),
        ("ratio projects / bare", f"{projects_per_s / bare_per_s:.2f}", ""),
        ("decision latency p50", f"{statistics.median(latencies):.1f}", "ms"),
        ("decision latency p99", f"{pct(latencies, 0.99):.1f}", "ms"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric'.ljust(width)}  value")
    print(f"{'-' * width}  ------")
    for name, value, unit in rows:
        print(f"{name.ljust(width)}  {value} {unit}".rstrip())


if __name__ == "__main__":
    main()
