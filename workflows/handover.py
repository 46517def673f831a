"""OrgHandover (id ``handover-<user id>``): a user who left the organisation (org sync marked them
``left``) hands every pending approval task to their manager, audited.

    to = input.to_user_id, else the nearest manager in the registry's manager chain who is not the
         user themself ─► (none: nothing to hand over to, done with to_user_id "")
    approval.ListTodos(user) ─► tasks the user holds as approver (not those they only act on as
         a delegate) ─► per task, the project's lifecycle ``decide`` update:
         action transfer, actor = the departing user, to_user_id = to, channel "org_sync",
         comment = the reason

The approval service records each transfer as a decision of the task (audit: who, when, channel
org_sync, target), closes the old task (its action links answer 403 from then on) and opens the
manager's; the lifecycle notifies the manager with a fresh link. Idempotent: each update has an id
derived from this workflow and the task, a task already decided or no longer pending is skipped,
and a second run finds no to-dos left.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows import integration_types as it

CHANNEL = "org_sync"
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# The decide update waits for the lifecycle to act (its own activities): give it room.
UPDATE_TIMEOUT = timedelta(minutes=2)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=30), maximum_attempts=20)


@workflow.defn(name=it.ORG_HANDOVER_WORKFLOW_TYPE)
class OrgHandover:
    @workflow.run
    async def run(self, inp: it.HandoverInput) -> it.HandoverResult:
        wid = workflow.info().workflow_id
        to = inp.to_user_id.strip()
        if not to:
            chain: it.ManagerChain = await workflow.execute_activity(
                it.REGISTRY_GET_MANAGER_CHAIN, it.ManagerChainInput(user_id=inp.user_id),
                result_type=it.ManagerChain, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
            )
            to = next((m for m in chain.manager_ids if m != inp.user_id), "")
        result = it.HandoverResult(user_id=inp.user_id, to_user_id=to)
        if not to or to == inp.user_id:
            workflow.logger.warning("user %s has no manager to hand over to", inp.user_id)
            result.to_user_id = ""
            return result
        todos: it.TodoList = await workflow.execute_activity(
            it.APPROVAL_LIST_TODOS, it.ListTodosInput(user_id=inp.user_id), result_type=it.TodoList,
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
        )
        own = [t for t in todos.tasks if t.approver_id == inp.user_id and not t.on_behalf_of
               and t.status == "pending"]
        for task in own:
            done: it.LifecycleOpResult = await workflow.execute_activity(
                it.LIFECYCLE_DECIDE,
                it.LifecycleDecideInput(
                    project_id=task.project_id, task_id=task.id, user_id=inp.user_id, action="transfer",
                    to_user_id=to, comment=inp.reason, channel=CHANNEL, update_id=f"{wid}:transfer:{task.id}",
                ),
                result_type=it.LifecycleOpResult, start_to_close_timeout=UPDATE_TIMEOUT, retry_policy=RETRY,
            )
            if done.outcome != "done":
                workflow.logger.warning("task %s of %s not handed over: %s %s %s", task.id, task.project_id,
                                        done.outcome, done.error_type, done.message)
                continue
            result.task_ids.append(task.id)
            if task.project_id not in result.project_ids:
                result.project_ids.append(task.project_id)
        workflow.logger.info("handover of %s to %s: %d task(s)", inp.user_id, to, len(result.task_ids))
        return result
