"""Client-side start of project workflows for tools that create projects outside the edge (the
Excel import CLI): the same start as ``POST /projects`` — idempotent (USE_EXISTING), and a started
workflow never submits on its own (an imported active project only gets its delivery workflows)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from baobei.core import telemetry
from baobei.core.settings import Settings
from workflows.contracts.data_converter import DATA_CONVERTER
from workflows.contracts.lifecycle import WORKFLOW_TYPE, LifecycleInput, workflow_id
from workflows.contracts.search_attributes import project_start_options


async def start_lifecycles(
    settings: Settings, projects: Sequence[tuple[str, ...]], *, concurrency: int = 16
) -> int:
    """Start the lifecycle of each ``(project_id, owner_id[, code, name])``; returns how many are
    running now. The code and name label the workflow in the Temporal UI (``BaobeiCode``)."""
    client = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace,
        interceptors=telemetry.temporal_interceptors(), data_converter=DATA_CONVERTER,
    )
    gate = asyncio.Semaphore(concurrency)

    async def start(project_id: str, owner_id: str, code: str = "", name: str = "") -> None:
        async with gate:
            # Already ran and closed: nothing to start.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await client.start_workflow(
                    WORKFLOW_TYPE,
                    LifecycleInput(project_id=project_id, owner_id=owner_id),
                    id=workflow_id(project_id),
                    task_queue=settings.task_queue,
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                    **project_start_options(WORKFLOW_TYPE, code, name),
                )

    await asyncio.gather(*(start(*p) for p in projects))
    return len(projects)
