"""The workflow sandbox every worker uses: Temporal's, with our own modules shared with the host
instead of imported afresh for each workflow instance.

The sandbox runs each workflow instance's imports afresh unless a module is passed through, and
proxies every restricted module it hands the workflow code. For our workflows that was the
largest share of the worker's CPU per project (docs/performance.md): re-executing the type
modules per instance (~60% on the first measurement, fixed by passing ``workflows.contracts``
through), then re-executing the workflow modules themselves and the proxies on every call (~35% of
the worker's busy samples after local activities).

So the whole ``workflows`` package is passed through: the workflow code runs as plain host code,
one copy of each module for every instance. Its modules hold constants only (no module state to
leak between instances), and determinism is checked where it cannot cost production anything:
the replay tests (tests/replay) run every recorded history under the SDK's default, strict
sandbox (restricted stdlib, modules imported afresh), so a workflow that reads the clock, does I/O
or keeps module state fails there, on the paths the histories cover.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Metrics modules register their series in the process's one registry when imported: imported
# afresh in the sandbox they would register twice and fail the worker's validation.
PASSTHROUGH_MODULES = ("workflows", "prometheus_client", "baobei.core.metrics")


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow sandbox with ``PASSTHROUGH_MODULES`` shared with the host."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
