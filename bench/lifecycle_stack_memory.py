"""The product's lifecycle worker (``run_worker``, role lifecycle) in THIS process, measured like
bench.lifecycle_memory, while the projects come from a real dev stack (edge, services, Temporal):
the stack's own lifecycle worker is paused (SIGSTOP) so this one handles every project.

Sets the worker apart from its inputs: bench.memprobe measures the stack's worker process.

    .venv/bin/python -m bench.lifecycle_stack_memory [--cache 50] [--n 400] [--batch 100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import signal
import tempfile
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from bench.lifecycle_memory import sample


async def create_distinct(rep: Any, form: str, i: int) -> str:
    """bench.soak's project with unrelated customer and project names: no conflict (撞单) with the
    others (bench.soak's near-identical names make each project conflict with all earlier ones)."""
    tag = uuid.uuid4().hex
    body = {"form_key": form, "name": f"P{tag[:16]}", "customer": {"name": f"C{tag[16:]}"},
            "amount": "10000.00", "fields": {"phone": "13800138000"}, "submit": True}
    r = await rep.post("/api/v1/projects", json=body, headers={"Idempotency-Key": f"{form}-d{i}"})
    r.raise_for_status()
    return str(r.json()["id"])


async def run(cache: int, n: int, batch: int, canned: tuple[str, ...] = (), no_redact: bool = False,
              thin_snapshot: bool = False, distinct: bool = False) -> None:
    from baobei.core.settings import Settings
    from bench.lifecycle import bounded
    from bench.soak import create, set_up, wait_waiting, worker_of
    from cli.devstack import launch, stack_env
    from workflows.worker import run_worker

    with tempfile.TemporaryDirectory() as data:
        stack = launch(Path(data), stack_env())
        paused = None
        task = None
        try:
            rep, form = await set_up(stack)
            await create(rep, form, -1)
            await asyncio.sleep(2)
            paused = worker_of(stack)
            os.kill(paused.pid, signal.SIGSTOP)
            for k, v in stack.env.items():
                if k.startswith("BAOBEI_"):
                    os.environ[k] = v
            if canned:  # the activities call bench.lifecycle_servers' stand-ins, not the stack's services
                from bench.lifecycle_servers import serve_only

                _server, port = await serve_only()
                for svc in canned:
                    os.environ[f"BAOBEI_{svc.upper()}_ADDR"] = f"127.0.0.1:{port}"
            if no_redact:  # notify.send without its registry read (RecipientRedactions): one send as given
                from workflows.activities import notify, redact

                async def as_given(registry: object, inp: object, *, timeout: float) -> list[object]:
                    return [inp]

                redact.per_recipient = notify.redact.per_recipient = as_given  # type: ignore[assignment]
            if thin_snapshot:  # the registry activities' snapshots without the project's conflicts
                from workflows.activities import registry as registry_activities
                from workflows.contracts.project_snapshot import project_snapshot

                def thin(p: Any) -> Any:
                    return dataclasses.replace(project_snapshot(p), conflicts=[], conflict_count=0)

                registry_activities.project_snapshot = thin  # type: ignore[assignment]
            settings = Settings(worker_max_cached_workflows=cache)
            task = asyncio.create_task(run_worker(settings, role="lifecycle", handle_signals=False))
            await asyncio.sleep(3)
            address = stack.env["BAOBEI_TEMPORAL_ADDRESS"]
            rows = []
            for b in range(0, n + 1, batch):
                if b:
                    make = partial(create_distinct, rep, form) if distinct else partial(create, rep, form)
                    await bounded(10, [partial(make, i) for i in range(b - batch, b)])
                    await wait_waiting(address, b + 1, 600)
                    await asyncio.sleep(3)
                rows.append(sample(b))
                print(json.dumps(rows[-1]), flush=True)
            first = next((r for r in rows if r["workflows"] >= cache + batch), None)
            if first is not None and rows[-1] is not first:
                k = rows[-1]["workflows"] - first["workflows"]
                print(json.dumps({"per_evicted_kib": {key: round((rows[-1][key] - first[key]) / k, 1)
                                                      for key in ("rss_kib", "malloc_in_use_kib", "pymalloc_kib",
                                                                  "objects")}}), flush=True)
            await rep.aclose()
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if paused is not None:
                os.kill(paused.pid, signal.SIGCONT)
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=int, default=50)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--canned", default="", help="services (comma-separated: registry,approval,notify) whose "
                        "calls go to in-process stand-ins instead of the stack's")
    parser.add_argument("--no-redact", action="store_true", help="notify.send skips RecipientRedactions")
    parser.add_argument("--thin-snapshot", action="store_true", help="registry activities drop the conflicts")
    parser.add_argument("--distinct", action="store_true", help="unrelated names: projects without conflicts")
    args = parser.parse_args()
    asyncio.run(run(args.cache, args.n, args.batch, tuple(s for s in args.canned.split(",") if s), args.no_redact,
                    args.thin_snapshot, args.distinct))


if __name__ == "__main__":
    main()
