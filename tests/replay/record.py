"""Record the histories the replay tests run: ``python -m tests.replay.record``.

Runs ProjectLifecycle with the fake activities on the time-skipping server through a few paths and
writes each history to ``tests/replay/histories/<name>.json``. Re-record only for a new scenario:
a history recorded by an older version of the workflow is what keeps later changes honest (they
must be guarded by ``workflow.patched``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.conftest import temporal_test_server_path
from tests.workflows.conftest import lifecycle_worker, start_lifecycle, wait_for_step
from tests.workflows.fakes import Fakes, StepSpec
from workflows.payloads import UPDATE_DECIDE, UPDATE_SUBMIT, DecisionInput, SubmitInput
from workflows.worker import ensure_search_attributes

HISTORIES = Path(__file__).parent / "histories"


async def _decide(handle: WorkflowHandle[Any, Any], step: int, task: str, user: str, action: str = "approve") -> None:
    await wait_for_step(handle, step)
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id=task, user_id=user, action=action))


async def approve_three_steps(handle: WorkflowHandle[Any, Any], fakes: Fakes) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    # Step 1 is auto-approved (same approver); step 2 has an SLA and two approvers ("all").
    await _decide(handle, 2, "t2-fin1", "fin1")
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t2-fin2", user_id="fin2", action="approve"))


async def reject_second_step(handle: WorkflowHandle[Any, Any], fakes: Fakes) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    await _decide(handle, 1, "t1-dir", "dir", action="reject")


async def no_policy(handle: WorkflowHandle[Any, Any], fakes: Fakes) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))


SCENARIOS = {
    "approve_three_steps": (
        [
            StepSpec("部门经理", ["mgr"]),
            StepSpec("经理复核", ["mgr"], auto=True),
            StepSpec("财务会签", ["fin1", "fin2"], mode="all", sla_seconds=86400),
        ],
        approve_three_steps,
    ),
    "reject_second_step": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], reject_second_step),
    "no_policy": ([], no_policy),
}


async def record() -> None:
    HISTORIES.mkdir(parents=True, exist_ok=True)
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path()
    ) as env:
        await ensure_search_attributes(env.client, env.client.namespace)
        for name, (steps, drive) in SCENARIOS.items():
            fakes = Fakes(steps=steps)
            async with lifecycle_worker(env.client, fakes) as tq:
                handle = await start_lifecycle(env.client, tq, fakes)
                await drive(handle, fakes)
                await handle.result()
                history = await handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record())
