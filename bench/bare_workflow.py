"""The fixed bare baseline of bench/lifecycle.py: a workflow with 4 no-op activities and one
signal between them (kept in its own side-effect-free module for the sandbox). Fixed, so the
goal "projects/s ≥ 0.5× bare" does not move when the lifecycle's activity count changes."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

BARE_ACTIVITIES = 4


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


@workflow.defn(name="BenchBareLocal")
class BenchBareLocal(BenchBare):
    """BenchBare with local activities (as the lifecycle's calls are): bench.bare_memory --local."""

    @workflow.signal
    def go(self) -> None:
        self.signalled = True

    @workflow.run
    async def run(self, activities: int) -> int:
        half = activities // 2
        for i in range(half):
            await workflow.execute_local_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        await workflow.wait_condition(lambda: self.signalled)
        for i in range(half, activities):
            await workflow.execute_local_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        return activities


@workflow.defn(name="BenchBareUpdate")
class BenchBareUpdate:
    """Started by update-with-start (as a project's creation is); the update runs 2 local activities,
    then the workflow waits for a signal or an 8-hour timer (an SLA): bench.bare_memory --update."""

    def __init__(self) -> None:
        self.signalled = False

    @workflow.signal
    def go(self) -> None:
        self.signalled = True

    @workflow.update
    async def submit(self, activities: int) -> int:
        for i in range(activities // 2):
            await workflow.execute_local_activity(noop, i, start_to_close_timeout=timedelta(seconds=30))
        return activities

    @workflow.run
    async def run(self, activities: int) -> int:
        await workflow.wait_condition(lambda: self.signalled, timeout=timedelta(hours=8))
        return activities
