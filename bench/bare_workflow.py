"""The bare baseline of bench/lifecycle.py: a workflow with as many no-op activities as one
approved project runs, and one signal (kept in its own side-effect-free module for the sandbox)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

# Activities one approved project runs in ProjectLifecycle (one-step policy): get project, event
# created, submit, event submitted, plan chain, open step, notify approver, record decision,
# set status, event approved, notify owner.
ACTIVITIES_PER_PROJECT = 11


@activity.defn(name="bench_noop")
async def noop(i: int) -> int:
    return i


@workflow.defn(name="BenchBare")
class BenchBare:
    def __init__(self) -> None:
        self.signalled = False

    @workflow.signal
    def go(self) -> None:
        self.signalled = True

    @workflow.run
    async def run(self, activities: int) -> int:
        half = activities // 2
        for i in range(half):
            await workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self.signalled)
        for i in range(half, activities):
            await workflow.execute_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        return activities


