"""The workflow sandbox every worker uses: Temporal's, with our side-effect-free modules shared
with the host instead of imported afresh for each workflow instance."""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

# Side-effect-free modules the workflows import: the contracts (dataclasses, names, policies) and
# the activity classes whose methods they call (execute_activity_method), with all their children.
# The sandbox runs each workflow instance's imports afresh unless a module is passed through:
# ``imports_passed_through()`` inside a module of the ``workflows`` package is not enough (the
# package is the sandbox's own copy, so the submodule is re-executed). Re-executing the type module
# per instance was ~60% of the worker's CPU per project and ~1 MiB of every cached instance.
# Metrics modules register their series in the process's one registry when imported: imported
# afresh in the sandbox they would register twice and fail the worker's validation.
PASSTHROUGH_MODULES = ("workflows.contracts", "workflows.activities", "workflows.search_attributes",
                       "prometheus_client", "baobei.core.metrics")


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow sandbox with ``PASSTHROUGH_MODULES`` shared with the host."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )
