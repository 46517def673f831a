"""How a workflow runs the short, idempotent RPC activities it calls: as local activities.

A remote activity costs a task-queue round trip (schedule → poll → start → complete → a new
workflow task) and three history events; a local activity runs in the worker that runs the
workflow task, inside that task, and leaves one marker. The services' RPCs are short and
idempotent on their request ids (a retried or re-run call is answered from the stored response), so
they need none of what a remote activity adds. Consecutive calls share one workflow task, which is
what lets a decision answer within one task instead of one round trip per call (issue 15).

Histories recorded before the change hold scheduled activities, so the switch is the patch
``local-activities``, asked once per run: a run that started remote stays remote (replay-safe),
every new run (a start, or a continue-as-new) is local from its first call.

Each workflow instance owns one ``ActivityCalls`` (this module is shared with the host through the
sandbox's passthrough, so it holds no state of its own).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.contracts.policies import LOCAL_RETRY_THRESHOLD

A = TypeVar("A")
T = TypeVar("T")

PATCH_LOCAL_ACTIVITIES = "local-activities"


class ActivityCalls:
    """One workflow run's way of calling its activities (remote before the patch, local after)."""

    def __init__(self, patched: Callable[[str], bool] = workflow.patched) -> None:
        # ``patched``: how the run answers a patch (a workflow's PatchBundle, or the SDK's own).
        self._patched = patched
        self._local: bool | None = None

    @property
    def local(self) -> bool:
        # Asked once, at the first call: every call of a run goes the same way.
        if self._local is None:
            self._local = self._patched(PATCH_LOCAL_ACTIVITIES)
        return self._local

    async def __call__(
        self, fn: Callable[[Any, A], Awaitable[T]], arg: A, *, timeout: timedelta, retry: RetryPolicy
    ) -> T:
        if self.local:
            return await workflow.execute_local_activity_method(
                fn, arg, start_to_close_timeout=timeout, retry_policy=retry, local_retry_threshold=LOCAL_RETRY_THRESHOLD
            )
        return await workflow.execute_activity_method(fn, arg, start_to_close_timeout=timeout, retry_policy=retry)
