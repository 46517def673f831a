"""gRPC calls per project, by service and method, on a real ``baobei dev``: ``--n`` projects
through the one-step lifecycle (create+submit → the approver's to-do → approve → active, as
``bench.lifecycle`` drives them, ``--concurrency`` at a time) after a warm-up, counted from each
component's own ``baobei_grpc_server_handled_total`` (``<data-dir>/metrics.json`` lists them).
Batched relay calls show as fractions (one call per round for several projects).

On 2026-12-06: 23.4 calls per project before the seventh step of docs/performance.md, 14.6 after.

    PYTHONPATH=$PWD .venv/bin/python -m bench.rpc_counts [--n 40] [--concurrency 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections import defaultdict
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.lifecycle import bench_projects, set_up
from cli.devstack import DevStack, launch, stack_env

WARM_UP = 10


async def handled(urls: dict[str, str]) -> defaultdict[tuple[str, str], float]:
    """Calls each service answered so far, by (component, method)."""
    out: defaultdict[tuple[str, str], float] = defaultdict(float)
    async with httpx.AsyncClient(timeout=10) as http:
        for component, url in urls.items():
            try:
                text = (await http.get(url)).text
            except httpx.HTTPError:
                continue  # a component without a metrics endpoint (the workers' SDK side)
            for family in text_string_to_metric_families(text):
                if family.name != "baobei_grpc_server_handled":
                    continue
                for sample in family.samples:
                    if sample.name.endswith("_total"):
                        out[(component, sample.labels["grpc_method"])] += sample.value
    return out


async def count(stack: DevStack, n: int, concurrency: int) -> dict[tuple[str, str], float]:
    people = await set_up(stack.base, stack.token)
    try:
        await bench_projects(people, WARM_UP, concurrency)
        await asyncio.sleep(2)  # the warm-up's relays done
        urls: dict[str, str] = json.loads((stack.data_dir / "metrics.json").read_text())
        before = await handled(urls)
        await bench_projects(people, n, concurrency)
        await asyncio.sleep(3)  # this run's relays done
        after = await handled(urls)
    finally:
        await people.aclose()
    return {key: (after[key] - before[key]) / n for key in after if after[key] > before[key]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = launch(Path(tmp), stack_env())
        try:
            per_project = asyncio.run(count(stack, args.n, args.concurrency))
        finally:
            stack.stop()
    print(f"{'service':<12} {'method':<28} {'calls per project':>17}")
    for (component, method), calls in sorted(per_project.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{component:<12} {method:<28} {calls:17.2f}")
    print(f"{'total':<41} {sum(per_project.values()):17.2f}")


if __name__ == "__main__":
    main()
