"""Read-only activities of the org handover: a user's manager chain (registry) and their pending
approval to-dos (approval service)."""

from __future__ import annotations

from temporalio import activity

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.org import (
    APPROVAL_LIST_TODOS,
    REGISTRY_GET_MANAGER_CHAIN,
    REGISTRY_HAND_OVER_PROJECTS,
    HandedOverProjects,
    HandOverProjectsInput,
    ListTodosInput,
    ManagerChain,
    ManagerChainInput,
    TodoList,
    TodoRef,
)


def _task_status(value: int) -> str:
    return apb.TaskStatus.Name(value).removeprefix("TASK_STATUS_").lower()


class OrgActivities:
    def __init__(self, registry: RegistryServiceStub, approval: ApprovalServiceStub, *, timeout: float = 10.0) -> None:
        self._registry = registry
        self._approval = approval
        self._timeout = timeout

    @activity.defn(name=REGISTRY_GET_MANAGER_CHAIN)
    async def get_manager_chain(self, inp: ManagerChainInput) -> ManagerChain:
        resp = await call(self._registry.GetManagerChain, rpb.GetManagerChainRequest(user_id=inp.user_id),
                          timeout=self._timeout)
        out: list[str] = []
        for link in resp.links:
            if link.manager_id and link.manager_id not in out:
                out.append(link.manager_id)
        activity_logger().info("org.manager_chain", user_id=inp.user_id, managers=out)
        return ManagerChain(manager_ids=out)

    @activity.defn(name=APPROVAL_LIST_TODOS)
    async def list_todos(self, inp: ListTodosInput) -> TodoList:
        resp = await call(self._approval.ListTodos, apb.ListTodosRequest(user_id=inp.user_id), timeout=self._timeout)
        tasks = [
            TodoRef(id=t.id, project_id=t.project_id, instance_id=t.instance_id, step_index=t.step_index,
                    approver_id=t.approver_id, on_behalf_of=t.on_behalf_of, status=_task_status(t.status))
            for t in resp.tasks
        ]
        activity_logger().info("org.todos", user_id=inp.user_id, tasks=len(tasks))
        return TodoList(tasks=tasks)

    @activity.defn(name=REGISTRY_HAND_OVER_PROJECTS)
    async def hand_over_projects(self, inp: HandOverProjectsInput) -> HandedOverProjects:
        """The user's live registrations to ``to_user_id`` (idempotent on the request id)."""
        resp = await call(self._registry.HandOverProjects, rpb.HandOverProjectsRequest(
            request_id=inp.request_id, from_user_id=inp.user_id, to_user_id=inp.to_user_id,
            actor_id=inp.actor_id or "org_sync", reason=inp.reason,
        ), timeout=self._timeout)
        live = {rpb.PROJECT_STATUS_DRAFT, rpb.PROJECT_STATUS_PENDING_APPROVAL, rpb.PROJECT_STATUS_RETURNED,
                rpb.PROJECT_STATUS_ACTIVE}
        out = HandedOverProjects(project_ids=[h.project_id for h in resp.projects],
                                 live_project_ids=[h.project_id for h in resp.projects if h.status in live])
        activity_logger().info("org.projects_handed_over", user_id=inp.user_id, to_user_id=inp.to_user_id,
                               projects=len(out.project_ids))
        return out
