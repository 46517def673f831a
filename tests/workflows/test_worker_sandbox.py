"""The worker's sandbox shares the pure type modules with the host (workflows.sandbox
PASSTHROUGH_MODULES) instead of importing them afresh for every workflow instance — the
largest share of the worker's CPU per project before (docs/performance.md)."""

from __future__ import annotations

import uuid

import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

import workflows.contracts.lifecycle
from tests.workflows.sandbox_probe import SandboxProbe
from workflows.sandbox import sandbox_runner

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def probe(env: WorkflowEnvironment, runner: SandboxedWorkflowRunner) -> str:
    queue = f"tq-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[SandboxProbe], workflow_runner=runner):
        return str(await env.client.execute_workflow(SandboxProbe.run, id=queue, task_queue=queue))


async def test_the_type_modules_are_the_hosts(env: WorkflowEnvironment, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workflows.contracts.lifecycle, "SANDBOX_PROBE", "host", raising=False)
    assert await probe(env, sandbox_runner()) == "host"
    # The SDK's default sandbox imports it afresh per instance (what the passthrough avoids).
    assert await probe(env, SandboxedWorkflowRunner()) == "imported afresh"
