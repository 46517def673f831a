"""The SDK alone: does a waiting workflow leave memory behind when it is evicted? One process: a
local dev server, a worker with our sandbox (passthrough) and the cache size given, N bare
workflows (bench.bare_workflow: 2 activities, then waiting for a signal) started in batches; RSS,
glibc malloc in use / free, pymalloc blocks and live objects after each batch.

    .venv/bin/python -m bench.bare_memory [--cache 200] [--n 800] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import uuid
from pathlib import Path

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from bench.bare_workflow import BenchBare, BenchBareLocal, BenchBareUpdate, noop
from bench.memprobe import _mallinfo, _pymalloc, _rss_kib
from workflows.sandbox import PASSTHROUGH_MODULES, sandbox_runner

HISTORY_AFTER_TWO_ACTIVITIES = 16  # started, 3 workflow tasks, 2 × (scheduled, started, completed) …


def runner(passthrough: bool) -> SandboxedWorkflowRunner:
    """Our sandbox; with ``passthrough`` the bench workflows are shared with the host too, as the
    product's ``workflows`` package is."""
    if not passthrough:
        return sandbox_runner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES, "bench"))


async def run(cache: int, n: int, batch: int, local: bool = False, update: bool = False,
              passthrough: bool = False, metrics_port: int = 0) -> None:
    wf: type = BenchBareUpdate if update else BenchBareLocal if local else BenchBare
    # Local activities record one marker each instead of scheduled/started/completed.
    done = 6 if local else HISTORY_AFTER_TWO_ACTIVITIES
    temporal = str(Path(sys.executable).parent / "temporal")
    # With a metrics port: the SDK's Prometheus metrics on, as the product's worker has them.
    rt = None
    if metrics_port:
        rt = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
            bind_address=f"127.0.0.1:{metrics_port}", counters_total_suffix=True, unit_suffix=True,
            durations_as_seconds=True)))
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=temporal, runtime=rt) as env:
        q = "tq-" + uuid.uuid4().hex[:6]
        async with Worker(env.client, task_queue=q, workflows=[wf], activities=[noop],
                          workflow_runner=runner(passthrough), max_cached_workflows=cache):
            for b in range(0, n + 1, batch):
                if b and update:
                    async def one(i: int) -> None:
                        op = WithStartWorkflowOperation(BenchBareUpdate.run, 4, id=f"w-{q}-{i}", task_queue=q,
                                                        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING)
                        await env.client.execute_update_with_start_workflow(BenchBareUpdate.submit, 4,
                                                                            start_workflow_operation=op)
                    await asyncio.gather(*[one(i) for i in range(b - batch, b)])
                    await asyncio.sleep(2)
                elif b:
                    hs = await asyncio.gather(*[
                        env.client.start_workflow(wf.run, 4, id=f"w-{q}-{i}", task_queue=q)
                        for i in range(b - batch, b)])
                    while True:
                        descs = await asyncio.gather(*[h.describe() for h in hs[-20:]])
                        if all(d.raw_description.workflow_execution_info.history_length
                               
                               >= done for d in descs):
                            break
                        await asyncio.sleep(0.5)
                    await asyncio.sleep(2)
                gc.collect()
                m = _mallinfo()
                print(json.dumps({"workflows": b, "rss_mib": _rss_kib() // 1024,
                                  "malloc_in_use_mib": m["uordblks"] // 1024, "malloc_free_mib": m["fordblks"] // 1024,
                                  "pymalloc_mib": _pymalloc().get("blocks_kib", 0) // 1024,
                                  "objects": len(gc.get_objects())}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=int, default=200)
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--local", action="store_true", help="local activities (BenchBareLocal)")
    parser.add_argument("--update", action="store_true", help="update-with-start (BenchBareUpdate)")
    parser.add_argument("--passthrough", action="store_true", help="bench.* passed through like workflows.*")
    parser.add_argument("--metrics-port", type=int, default=0, help="the SDK's Prometheus metrics on this port")
    args = parser.parse_args()
    asyncio.run(run(args.cache, args.n, args.batch, args.local, args.update, args.passthrough, args.metrics_port))


if __name__ == "__main__":
    main()
