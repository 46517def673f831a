"""A new ProjectLifecycle decides its patches in its first workflow task (the patch bundle asked
in ``@workflow.init``, workflows/patch_bundle.py).

A ``workflow.patched()`` first asked after a local activity can answer differently on replay: the
activity's marker may be recorded in the task before the one in which the workflow resumed from its
result (seen when a query arrived while the first task's GetProject ran); replay resumes it in the
marker's task, where the next task's patch markers are not known yet, and the run takes the old
branch ("patch marker service-events ... no corresponding change command"). A marker recorded in
the first task is known to replay from the first activation. (Found by the flake hunt of issue 15:
start, query, then submit, with no project in the start input, failed 4 runs in 8 with the worker
cache off.)"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.conftest import lifecycle_worker, start_lifecycle, state_of, wait_for_step
from tests.workflows.fakes import Fakes, StepSpec
from workflows.contracts.lifecycle import (
    UPDATE_DECIDE,
    UPDATE_SUBMIT,
    DecisionInput,
    DecisionResult,
    LifecycleResult,
    SubmitInput,
    SubmitResult,
)
from workflows.lifecycle import PATCH_BUNDLE, ProjectLifecycle

pytestmark = pytest.mark.asyncio(loop_scope="module")


def _patch_markers(history: WorkflowHistory) -> dict[str, int]:
    """Patch id → the workflow task (its completed event id) that recorded the marker."""
    out: dict[str, int] = {}
    for event in json.loads(history.to_json())["events"]:
        attrs = event.get("markerRecordedEventAttributes")
        if attrs and attrs["markerName"] == "core_patch":
            data = json.loads(base64.b64decode(attrs["details"]["patch-data"]["payloads"][0]["data"]))
            out[data["id"]] = int(attrs["workflowTaskCompletedEventId"])
    return out


@pytest.mark.parametrize("given", [False, True], ids=["reads-project", "project-given"])
async def test_every_patch_is_decided_in_the_first_workflow_task(env: Any, given: bool) -> None:
    fakes = Fakes(steps=[StepSpec("经理", ["mgr"]), StepSpec("总监", ["dir"])])
    async with lifecycle_worker(env.client, fakes) as tq:
        handle = await start_lifecycle(env.client, tq, fakes, given=given)
        assert (await state_of(handle)).stage == "draft"  # a query while the first task may run
        await handle.execute_update(UPDATE_SUBMIT, SubmitInput(actor_id="owner"), result_type=SubmitResult)
        await wait_for_step(handle, 0)
        for task, user in (("t0-mgr", "mgr"), ("t1-dir", "dir")):
            await handle.execute_update(UPDATE_DECIDE, DecisionInput(task_id=task, user_id=user, action="approve"),
                                        result_type=DecisionResult)
        assert await handle.result() == LifecycleResult(project_id="p1", status="active")
        history = await handle.fetch_history()
    markers = _patch_markers(history)
    # One marker, recorded by the first task (its completed event, 4; the time-skipping server
    # names its started event, 3).
    assert set(markers) == {PATCH_BUNDLE}
    assert max(markers.values()) <= 4, markers
    await Replayer(workflows=[ProjectLifecycle]).replay_workflow(history)
