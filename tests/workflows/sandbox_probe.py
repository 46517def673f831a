"""A workflow for tests/workflows/test_worker_sandbox.py: reports whether ``workflows.contracts.lifecycle``
inside the sandbox is the host's module (passed through) or a fresh import. Imported the way a
workflow module inside the ``workflows`` package sees it: the package is the sandbox's own copy."""

from __future__ import annotations

from temporalio import workflow

import workflows  # noqa: F401 - the sandbox's own copy of the package, as for ProjectLifecycle
from workflows.contracts import lifecycle as act


@workflow.defn(name="SandboxProbe")
class SandboxProbe:
    @workflow.run
    async def run(self) -> str:
        return str(getattr(act, "SANDBOX_PROBE", "imported afresh"))


@workflow.defn(name="ClockProbe")
class ClockProbe:
    """Reads the wall clock, which the sandbox refuses (a non-deterministic call)."""

    @workflow.run
    async def run(self) -> str:
        import datetime

        try:
            datetime.datetime.now()
        except Exception as err:  # the sandbox's RestrictedWorkflowAccessError
            return f"refused: {type(err).__name__}"
        return "read the clock"
