"""The shape of a waiting project's history in a real dev stack (edge, services, worker), to set
beside bench.lifecycle_memory's: each event's type and payload bytes.

    .venv/bin/python -m bench.history_shape [--projects 2]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from temporalio.client import Client

from workflows.contracts.lifecycle import workflow_id


def describe(history: object) -> list[str]:
    rows = []
    for e in history.events:  # type: ignore[attr-defined]
        kind = e.WhichOneof("attributes")
        rows.append(f"{e.event_id:3} {kind:55} {e.ByteSize():7} B")
    return rows


async def run(projects: int) -> None:
    from bench.soak import create, set_up, wait_waiting
    from cli.devstack import launch, stack_env

    with tempfile.TemporaryDirectory() as data:
        stack = launch(Path(data), stack_env())
        try:
            rep, form = await set_up(stack)
            pids = [await create(rep, form, i) for i in range(projects)]
            address = stack.env["BAOBEI_TEMPORAL_ADDRESS"]
            await wait_waiting(address, projects, 120)
            await asyncio.sleep(2)
            client = await Client.connect(address)
            for pid in pids:
                history = await client.get_workflow_handle(workflow_id(pid)).fetch_history()
                print(f"--- {pid}: {len(history.events)} events")
                print("\n".join(describe(history)))
            await rep.aclose()
        finally:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=2)
    asyncio.run(run(parser.parse_args().projects))


if __name__ == "__main__":
    main()
