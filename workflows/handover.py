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

Then (patch ``handover-projects``, issue 16: 报备交接) the user's live registrations (draft,
pending, returned, active) go to the same target: registry.HandOverProjects (history
``handed_over``, the PM role follows), and each project's lifecycle workflow is told its new owner
(signal ``owner_changed``; a project without a running lifecycle is skipped).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.activities.lifecycle_ops import LifecycleOps
    from workflows.activities.org import OrgActivities
    from workflows.contracts.handover import ORG_HANDOVER_WORKFLOW_TYPE, HandoverInput, HandoverResult
    from workflows.contracts.lifecycle import SIGNAL_OWNER_CHANGED, OwnerChanged
    from workflows.contracts.lifecycle import workflow_id as lifecycle_workflow_id
    from workflows.contracts.lifecycle_ops import LifecycleDecideInput, LifecycleOpResult
    from workflows.contracts.org import (
        HandedOverProjects,
        HandOverProjectsInput,
        ListTodosInput,
        ManagerChain,
        ManagerChainInput,
        TodoList,
    )
    from workflows.contracts.policies import ACTIVITY_TIMEOUT, HANDOVER_RETRY, LIFECYCLE_UPDATE_TIMEOUT

CHANNEL = "org_sync"
# Added (issue 16): hand over the user's registrations too; older histories skip it.
PATCH_PROJECTS = "handover-projects"


@workflow.defn(name=ORG_HANDOVER_WORKFLOW_TYPE)
class OrgHandover:
    @workflow.run
    async def run(self, inp: HandoverInput) -> HandoverResult:
        wid = workflow.info().workflow_id
        to = inp.to_user_id.strip()
        if not to:
            chain: ManagerChain = await workflow.execute_activity_method(
                OrgActivities.get_manager_chain, ManagerChainInput(user_id=inp.user_id),
                start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=HANDOVER_RETRY,
            )
            to = next((m for m in chain.manager_ids if m != inp.user_id), "")
        result = HandoverResult(user_id=inp.user_id, to_user_id=to)
        if not to or to == inp.user_id:
            workflow.logger.warning("user %s has no manager to hand over to", inp.user_id)
            result.to_user_id = ""
            return result
        todos: TodoList = await workflow.execute_activity_method(
            OrgActivities.list_todos, ListTodosInput(user_id=inp.user_id),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=HANDOVER_RETRY,
        )
        own = [t for t in todos.tasks if t.approver_id == inp.user_id and not t.on_behalf_of
               and t.status == "pending"]
        for task in own:
            done: LifecycleOpResult = await workflow.execute_activity_method(
                LifecycleOps.decide,
                LifecycleDecideInput(
                    project_id=task.project_id, task_id=task.id, user_id=inp.user_id, action="transfer",
                    to_user_id=to, comment=inp.reason, channel=CHANNEL, update_id=f"{wid}:transfer:{task.id}",
                ),
                start_to_close_timeout=LIFECYCLE_UPDATE_TIMEOUT, retry_policy=HANDOVER_RETRY,
            )
            if done.outcome != "done":
                workflow.logger.warning("task %s of %s not handed over: %s %s %s", task.id, task.project_id,
                                        done.outcome, done.error_type, done.message)
                continue
            result.task_ids.append(task.id)
            if task.project_id not in result.project_ids:
                result.project_ids.append(task.project_id)
        if workflow.patched(PATCH_PROJECTS):
            await self._hand_over_projects(inp, to, wid, result)
        workflow.logger.info("handover of %s to %s: %d task(s), %d project(s)", inp.user_id, to,
                             len(result.task_ids), len(result.owned_project_ids))
        return result

    async def _hand_over_projects(self, inp: HandoverInput, to: str, wid: str, result: HandoverResult) -> None:
        handed: HandedOverProjects = await workflow.execute_activity_method(
            OrgActivities.hand_over_projects,
            HandOverProjectsInput(user_id=inp.user_id, to_user_id=to, reason=inp.reason, actor_id=inp.actor_id,
                                  request_id=f"{wid}:projects"),
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=HANDOVER_RETRY,
        )
        result.owned_project_ids = list(handed.project_ids)
        for pid in handed.live_project_ids:
            try:
                await workflow.get_external_workflow_handle(lifecycle_workflow_id(pid)).signal(
                    SIGNAL_OWNER_CHANGED, OwnerChanged(owner_id=to))
            except Exception as err:  # noqa: BLE001 - no running lifecycle: the registry is the record
                workflow.logger.info("project %s: lifecycle not told of its new owner: %s", pid, err)
