"""Workflow test fixtures: one time-skipping test server per module (custom search attributes
registered through the operator API, which it supports), a worker on a fresh task queue per test
running the real workflow with the fake activities."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest_asyncio
from temporalio import workflow
from temporalio.api.common.v1 import SearchAttributes, WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import RawValue, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.converter import decode_typed_search_attributes
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.conftest import time_skipping_env
from tests.workflows.fakes import Fakes
from workflows.contracts.lifecycle import (
    QUERY_STATE,
    WORKFLOW_TYPE,
    LifecycleInput,
    LifecycleResult,
    LifecycleState,
    workflow_id,
)
from workflows.lifecycle import ProjectLifecycle


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


@workflow.defn(dynamic=True, sandboxed=False)
class ChildStandIn:
    """Completes at once in place of the child workflows an active project starts (execution,
    protection): they are tested elsewhere, and a child type no worker knows would keep failing
    its workflow tasks, which stops the time-skipping server from skipping."""

    @workflow.run
    async def run(self, args: Sequence[RawValue]) -> None:
        return None


@asynccontextmanager
async def lifecycle_worker(client: Client, fakes: Fakes) -> AsyncIterator[str]:
    task_queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=task_queue, workflows=[ProjectLifecycle, ChildStandIn], activities=fakes.activities()
    ):
        yield task_queue
        await _children_done(client, fakes.project.id)


async def _children_done(client: Client, project_id: str) -> None:
    """Let the stand-in children finish before the worker goes: a workflow task left on a queue
    nobody polls would block time skipping for the rest of the module."""
    for wid in (f"execution-{project_id}", f"protection-{project_id}"):
        handle = client.get_workflow_handle(wid)
        for _ in range(100):
            try:
                if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                    break
            except RPCError:
                break  # never started
            await asyncio.sleep(0.05)


async def start_lifecycle(
    client: Client, task_queue: str, fakes: Fakes, *, given: bool = True
) -> WorkflowHandle[Any, Any]:
    """Start the workflow the way the edge does (by name, USE_EXISTING, with the project it
    created: the run reads no project first); ``given=False``: without it (GetProject first)."""
    return await client.start_workflow(
        WORKFLOW_TYPE,
        LifecycleInput(project_id=fakes.project.id, owner_id=fakes.project.owner_id,
                       project=replace(fakes.project) if given else None),
        id=workflow_id(fakes.project.id) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        execution_timeout=timedelta(days=30),
        result_type=LifecycleResult,
    )


async def search_attributes_of(handle: WorkflowHandle[Any, Any]) -> TypedSearchAttributes:
    """The workflow's search attributes. The time-skipping server keeps an unset attribute as a
    null payload (the real server drops it), which ``describe()`` cannot decode: skip those."""
    raw = await handle._client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=handle._client.namespace, execution=WorkflowExecution(workflow_id=handle.id)
        )
    )
    fields = raw.workflow_execution_info.search_attributes.indexed_fields
    kept = SearchAttributes()
    for name, payload in fields.items():
        if payload.metadata.get("encoding") != b"binary/null":
            kept.indexed_fields[name].CopyFrom(payload)
    return decode_typed_search_attributes(kept)


async def state_of(handle: WorkflowHandle[Any, Any]) -> LifecycleState:
    state: LifecycleState = await handle.query(QUERY_STATE, result_type=LifecycleState)
    return state


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def wait_for_step(handle: WorkflowHandle[Any, Any], index: int) -> LifecycleState:
    """Wait until the workflow waits on step ``index`` (approvers notified)."""
    result: list[LifecycleState] = []

    async def check() -> bool:
        state = await state_of(handle)
        result[:] = [state]
        return state.step_index == index and bool(state.approvers)

    await eventually(check)
    return result[0]


async def local_activities(handle: WorkflowHandle[Any, Any]) -> Counter[str]:
    """The workflow's local activities by type (from its history's markers)."""
    out: Counter[str] = Counter()
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_local_activity" and "data" in marker.details:
                out[json.loads(marker.details["data"].payloads[0].data).get("activity_type", "?")] += 1
    return out
