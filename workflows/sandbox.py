"""How the workers run workflow code: as plain host code by default, or (``settings.workflow_sandbox``)
in Temporal's sandbox with our own modules shared with the host.

The sandbox runs each workflow instance's imports afresh unless a module is passed through, and
proxies every restricted module it hands the workflow code. For our workflows that was the
largest share of the worker's CPU per project (docs/performance.md): re-executing the type
modules per instance (~60% on the first measurement, fixed by passing ``workflows.contracts``
through), then re-executing the workflow modules themselves and the proxies on every call (~35% of
the worker's busy samples after local activities), fixed by passing the whole ``workflows``
package through. What was left of it — entering the sandbox on every activation and on every
payload the data converter handles — was still ~28% of the worker's CPU per project, and
unsandboxed the worker's CPU per project fell from 83 to 60 ms (the fifth step of
docs/performance.md).

So the workers run workflow code unsandboxed unless ``workflow_sandbox`` is set. Our workflow
modules hold constants only (no module state to leak between instances), and determinism is
checked where it costs production nothing: the workflow tests run their workflows under the SDK's
default, strict sandbox (restricted stdlib, modules imported afresh), and so do the replay tests
(tests/replay) on every recorded history — a workflow that reads the clock, does I/O or keeps
module state fails there.
"""

from __future__ import annotations

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from baobei.core.settings import Settings

# Metrics modules register their series in the process's one registry when imported: imported
# afresh in the sandbox they would register twice and fail the worker's validation.
PASSTHROUGH_MODULES = ("workflows", "prometheus_client", "baobei.core.metrics")


def sandbox_runner() -> SandboxedWorkflowRunner:
    """The workflow sandbox with ``PASSTHROUGH_MODULES`` shared with the host."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH_MODULES)
    )


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """The runner a worker built from ``settings`` uses: the sandbox when ``workflow_sandbox`` is
    set, plain host code otherwise."""
    return sandbox_runner() if settings.workflow_sandbox else UnsandboxedWorkflowRunner()
