"""How the workers run workflow code (workflows/sandbox.py): as plain host code by default, or with
``workflow_sandbox`` in the sandbox that shares the ``workflows`` package with the host
(PASSTHROUGH_MODULES) instead of importing it afresh for every workflow instance — the largest
share of the worker's CPU per project before (docs/performance.md). Determinism stays checked by
the workflow tests, which use the SDK's strict default sandbox."""

from __future__ import annotations

import uuid

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import workflows.contracts.lifecycle
from baobei.core.settings import Settings
from tests.workflows.sandbox_probe import ClockProbe, SandboxProbe
from workflows.sandbox import sandbox_runner, workflow_runner

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def probe(env: WorkflowEnvironment, runner: WorkflowRunner, workflow: type = SandboxProbe) -> str:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[workflow], workflow_runner=runner):
        return str(await env.client.execute_workflow(workflow.run, id=queue, task_queue=queue))  # type: ignore[attr-defined]


async def test_the_type_modules_are_the_hosts(env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflows.contracts.lifecycle, "SANDBOX_PROBE", "host", raising=False)
    assert await probe(env, sandbox_runner()) == "host"
    # The SDK's default sandbox imports it afresh per instance (what the passthrough avoids).
    assert await probe(env, SandboxedWorkflowRunner()) == "imported afresh"


async def test_workers_run_workflow_code_unsandboxed_unless_asked() -> None:
    assert isinstance(workflow_runner(Settings()), UnsandboxedWorkflowRunner)
    assert isinstance(workflow_runner(Settings(workflow_sandbox=True)), SandboxedWorkflowRunner)


async def test_only_the_sandbox_refuses_a_clock_read(env: WorkflowEnvironment) -> None:
    # What the tests' strict sandbox catches and production's plain runner would not.
    assert await probe(env, workflow_runner(Settings()), ClockProbe) == "read the clock"
    assert await probe(env, workflow_runner(Settings(workflow_sandbox=True)), ClockProbe) == \
        "refused: RestrictedWorkflowAccessError"
    assert await probe(env, SandboxedWorkflowRunner(), ClockProbe) == "refused: RestrictedWorkflowAccessError"
