"""AuditRetention (id ``audit-retention``, started by the worker): applies the audit log's retention
setting once a day, on a durable timer.

    purge(now = workflow time) ─► sleep a day ─► continue as new

The registry decides what goes under its chain lock (only a prefix older than the cutoff, the rest
verifiable from the new anchor); the workflow only keeps time. The activity reads the retention
setting of the worker it runs on, so a changed BAOBEI_AUDIT_RETENTION_DAYS applies from the next
purge. Each run is one purge: continue-as-new keeps the history at a handful of events forever.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities.audit import AuditActivities
    from workflows.contracts.audit import PurgeInput
    from workflows.contracts.audit_retention import AUDIT_RETENTION_WORKFLOW_TYPE, RetentionInput
    from workflows.contracts.policies import PURGE_RETRY, PURGE_TIMEOUT



@workflow.defn(name=AUDIT_RETENTION_WORKFLOW_TYPE)
class AuditRetention:
    @workflow.run
    async def run(self, inp: RetentionInput) -> None:
        info = workflow.info()
        outcome = await workflow.execute_activity_method(
            AuditActivities.purge,
            PurgeInput(now=workflow.now().isoformat(), event_id=f"{info.workflow_id}:{info.run_id}"),
            start_to_close_timeout=PURGE_TIMEOUT, retry_policy=PURGE_RETRY,
        )
        workflow.logger.info("audit.retention purged=%s before=%s", outcome.purged, outcome.before or "-")
        await workflow.sleep(timedelta(seconds=max(60, inp.interval_seconds)))
        workflow.continue_as_new(inp)
