"""Record the histories the replay tests run: ``python -m tests.replay.record [name ...]``.

Runs ProjectLifecycle with the fake activities on the time-skipping server through a few paths and
writes each history to ``tests/replay/histories/<name>.json``. Without names it records only the
scenarios that have no history yet: a history recorded by an older version of the workflow is
what keeps later changes honest (they must be guarded by ``workflow.patched``), so never
re-record an existing one to make a failing replay pass.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.conftest import temporal_test_server_path
from tests.workflows.conftest import lifecycle_worker, start_lifecycle, wait_for_step
from tests.workflows.fakes import Fakes, StepSpec
from workflows.payloads import (
    UPDATE_DECIDE,
    UPDATE_REMIND,
    UPDATE_SUBMIT,
    UPDATE_WITHDRAW,
    DecisionInput,
    RemindInput,
    SubmitInput,
    WithdrawInput,
)
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


# ---- approval engine (patch approval-engine-v2): typical approvals of the second version


async def v2_timers_escalation_ladder(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    """Reminder at half the SLA, escalation at the SLA, the ladder's timeout approval."""
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await wait_for_step(handle, 0)
    await env.sleep(timedelta(hours=50))


async def v2_return_resubmit(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 0, "t0-mgr", "mgr")
    await wait_for_step(handle, 1)
    await handle.execute_update(UPDATE_REMIND, RemindInput(actor_id="owner", comment="请尽快"))
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t1-dir", user_id="dir", action="return"))
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await _decide(handle, 1, "t1-dir-2", "dir")


async def v2_transfer_add_approver(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await wait_for_step(handle, 0)
    await handle.execute_update(
        UPDATE_DECIDE, DecisionInput(task_id="t0-mgr", user_id="mgr", action="transfer", to_user_id="dir")
    )
    await handle.execute_update(
        UPDATE_DECIDE, DecisionInput(task_id="t0-dir", user_id="dir", action="add_approver", to_user_id="fin")
    )
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t0-fin", user_id="fin", action="approve"))
    await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id="t0-dir", user_id="dir", action="approve"))


async def v2_withdraw(handle: WorkflowHandle[Any, Any], fakes: Fakes, env: Any) -> None:
    await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"))
    await wait_for_step(handle, 0)
    await handle.execute_update(UPDATE_WITHDRAW, WithdrawInput(actor_id="owner", comment="客户暂缓"))


V2_SCENARIOS = {
    "v2_timers_escalation_ladder": (
        [StepSpec("经理审批", ["mgr"], sla="24h", remind_at=0.5, on_timeout="escalate", escalate_to=["dir"],
                  escalation=[{"after": "48h", "action": "approve", "to": []}])],
        v2_timers_escalation_ladder,
    ),
    "v2_return_resubmit": ([StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])], v2_return_resubmit),
    "v2_transfer_add_approver": ([StepSpec("会签", ["mgr"], mode="all")], v2_transfer_add_approver),
    "v2_withdraw": ([StepSpec("经理", ["mgr"], sla="8wh", on_timeout="reject")], v2_withdraw),
}

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


async def record(names: list[str]) -> None:
    HISTORIES.mkdir(parents=True, exist_ok=True)
    everything: dict[str, Any] = {**SCENARIOS, **V2_SCENARIOS}
    wanted = names or [n for n in everything if not (HISTORIES / f"{n}.json").exists()]
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server_path()
    ) as env:
        await ensure_search_attributes(env.client, env.client.namespace)
        for name in wanted:
            steps, drive = everything[name]
            fakes = Fakes(steps=steps)
            async with lifecycle_worker(env.client, fakes) as tq:
                handle = await start_lifecycle(env.client, tq, fakes)
                if name in V2_SCENARIOS:
                    await drive(handle, fakes, env)
                else:
                    await drive(handle, fakes)
                await handle.result()
                history = await handle.fetch_history()
            (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")
            print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
