"""The real ProjectLifecycle in bench.bare_memory's harness: does it leave memory behind on eviction?

One process: a local dev server (our search attributes registered), a worker with our sandbox
(``workflows.sandbox.sandbox_runner``) and a small cache, N projects each started and submitted
as the edge does (start with the project snapshot, update ``submit``), then waiting on step 0 (one
approver, an 8-hour SLA: a reminder and an escalation timer). The activities are stateless local
fakes (``bench.lifecycle_fakes``), so nothing on the activity side grows with the projects. RSS,
glibc malloc in use, pymalloc blocks and live objects after each batch; ``--bare`` runs
BenchBareUpdate instead (the SDK-only baseline, same harness).

    .venv/bin/python -m bench.lifecycle_memory [--cache 50] [--n 400] [--batch 100] [--bare]
        [--start-options] [--logging] [--fields] [--real-activities] [--real-worker] [--slow-submit S] [--shape]

None of these leaves memory behind on eviction (docs/performance.md, soak section): what grew in
bench.soak was the projects' conflict lists (bench.lifecycle_stack_memory --distinct).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import socket
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench import lifecycle_fakes
from bench.bare_workflow import BenchBareUpdate, noop
from bench.memprobe import _mallinfo, _pymalloc, _rss_kib
from workflows.contracts import search_attributes as sa
from workflows.contracts.lifecycle import UPDATE_SUBMIT, WORKFLOW_TYPE, LifecycleInput, SubmitInput, SubmitResult
from workflows.contracts.search_attributes import project_start_options
from workflows.sandbox import sandbox_runner

# The edge's start options (BaobeiCode, the UI summary/details): --start-options.
START_OPTIONS: dict[str, Any] = {}
SHAPE: list[bool] = []


async def _project(client: Client, q: str, i: int, workflow: type) -> None:
    pid = f"{q}-{i}"
    snap = lifecycle_fakes.snapshot(pid)
    opts = project_start_options(WORKFLOW_TYPE, f"BB-2026-{i:04d}", snap.name) if START_OPTIONS else {}
    op = WithStartWorkflowOperation(  # type: ignore[var-annotated]
        WORKFLOW_TYPE, LifecycleInput(project_id=pid, owner_id="owner", project=snap),
        id=f"project-{pid}", task_queue=q, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING, **opts)
    await client.execute_update_with_start_workflow(UPDATE_SUBMIT, SubmitInput(actor_id="owner"),
                                                    start_workflow_operation=op, result_type=SubmitResult)


async def _bare(client: Client, q: str, i: int, workflow: type) -> None:
    op = WithStartWorkflowOperation(BenchBareUpdate.run, 4, id=f"w-{q}-{i}", task_queue=q,
                                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
    await client.execute_update_with_start_workflow(BenchBareUpdate.submit, 4, start_workflow_operation=op)


def sample(b: int) -> dict[str, Any]:
    gc.collect()
    m = _mallinfo()
    return {"workflows": b, "rss_kib": _rss_kib(), "malloc_in_use_kib": m["uordblks"],
            "pymalloc_kib": _pymalloc().get("blocks_kib", 0), "objects": len(gc.get_objects())}


@contextlib.asynccontextmanager
async def _real_worker(env: WorkflowEnvironment, q: str, cache: int) -> AsyncIterator[None]:
    """The product's worker entry point (``run_worker``, role lifecycle: its client, runtime with
    the SDK's metrics, all workflows, the real activities) on task queue ``q``, the services
    being the in-process stand-ins."""
    from baobei.core.settings import Settings
    from bench.lifecycle_servers import serve_only
    from workflows.worker import run_worker

    _server, port = await serve_only()
    addr = f"127.0.0.1:{port}"
    settings = Settings(temporal_address=env.client.service_client.config.target_host, task_queue=q,
                        registry_addr=addr, approval_addr=addr, notify_addr=addr, reporting_addr=addr, tasks_addr=addr,
                        worker_max_cached_workflows=cache, metrics_ports=f"worker={_free_port()}")
    task = asyncio.create_task(run_worker(settings, role="lifecycle", handle_signals=False))
    await asyncio.sleep(3)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(cache: int, n: int, batch: int, bare: bool, workflow: type | None = None,
              real_activities: bool = False, real_worker: bool = False) -> None:
    from workflows.lifecycle import ProjectLifecycle

    activities: list[Any] = [noop] if bare else lifecycle_fakes.ACTIVITIES
    if real_activities:  # the worker's activity classes over grpc.aio to in-process stand-ins
        from bench.lifecycle_servers import serve

        _server, activities, _channels = await serve()

    wf: type = BenchBareUpdate if bare else (workflow or ProjectLifecycle)
    start = _bare if bare else _project
    temporal = str(Path(sys.executable).parent / "temporal")
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=temporal,
                                                     dev_server_extra_args=sa.dev_server_args()) as env:
        q = "tq-" + uuid.uuid4().hex[:6]
        worker: Any = Worker(env.client, task_queue=q, workflows=[wf], activities=activities,
                             workflow_runner=sandbox_runner(), max_cached_workflows=cache)
        if real_worker:
            worker = _real_worker(env, q, cache)
        async with worker:
            rows = []
            for b in range(0, n + 1, batch):
                if b:
                    for c in range(b - batch, b, 20):  # 20 at a time, like a busy edge
                        await asyncio.gather(*[start(env.client, q, i, wf) for i in range(c, min(c + 20, b))])
                    await asyncio.sleep(2)
                rows.append(sample(b))
                print(json.dumps(rows[-1]), flush=True)
            if SHAPE and not bare:  # the last project's history, to set beside bench.history_shape's
                from bench.history_shape import describe

                h = await env.client.get_workflow_handle(f"project-{q}-{n - 1}").fetch_history()
                print("\n".join(describe(h)), flush=True)
            # Per evicted workflow: from the first batch past the cache to the last.
            first = next((r for r in rows if r["workflows"] >= cache + batch), None)
            if first is not None and rows[-1] is not first:
                k = rows[-1]["workflows"] - first["workflows"]
                print(json.dumps({"per_evicted_kib": {key: round((rows[-1][key] - first[key]) / k, 1)
                                                      for key in ("rss_kib", "malloc_in_use_kib", "pymalloc_kib",
                                                                  "objects")}}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=int, default=50)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--bare", action="store_true", help="BenchBareUpdate instead of ProjectLifecycle")
    parser.add_argument("--start-options", action="store_true", help="start as the edge does (project_start_options)")
    parser.add_argument("--logging", action="store_true", help="configure_logging as the worker does (INFO)")
    parser.add_argument("--real-activities", action="store_true",
                        help="the worker's activity classes over grpc.aio to in-process stand-in services")
    parser.add_argument("--real-worker", action="store_true",
                        help="the product's run_worker (role lifecycle) against the stand-in services")
    parser.add_argument("--shape", action="store_true", help="print the last project's history (event, bytes)")
    parser.add_argument("--fields", action="store_true", help="projects with a form field value (fields.phone)")
    parser.add_argument("--slow-submit", type=float, default=0.0, help="seconds the stand-in SubmitProject takes")
    args = parser.parse_args()
    if args.slow_submit:
        from bench import lifecycle_servers

        lifecycle_servers.SUBMIT_DELAY[0] = args.slow_submit
    if args.fields:
        lifecycle_fakes.FIELDS["phone"] = "13800138000"
    if args.shape:
        SHAPE.append(True)
    if args.start_options:
        START_OPTIONS["on"] = True
    if args.logging:  # as the worker's process has it (INFO, structlog's JSON renderer on stderr)
        from baobei.core.logging import configure_logging

        configure_logging(fmt="json", level="INFO", component="worker")
    asyncio.run(run(args.cache, args.n, args.batch, args.bare, real_activities=args.real_activities,
                    real_worker=args.real_worker))


if __name__ == "__main__":
    main()
