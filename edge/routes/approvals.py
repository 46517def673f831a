"""The caller's approval to-dos and decisions on approval tasks."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import Request
from redis.exceptions import RedisError

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.errors import Conflict, FieldViolation, Forbidden, ValidationFailed
from edge import lifecycle, mapping
from edge.deps import Clients, CurrentUser
from edge.routes import area_router, bind_project
from edge.routes.projects import visible_project
from edge.schemas import DecisionIn, DecisionResultOut, TodoList
from workflows.payloads import DecisionInput

router = area_router("approving")

SUPPORTED_ACTIONS = ("approve", "reject")
DECISION_LOCK_SECONDS = 60


@router.get("/me/todos", response_model=TodoList, response_model_exclude_none=True)
async def my_todos(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Approval tasks waiting for the caller."""
    resp = await clients.approval.ListTodos(approval_pb2.ListTodosRequest(user_id=user.id))
    return {"items": [mapping.todo_out(t) for t in resp.tasks]}


@router.post("/approval-tasks/{task_id}/decision", response_model=DecisionResultOut)
async def decide(
    task_id: str, body: DecisionIn, request: Request, user: CurrentUser, clients: Clients
) -> dict[str, Any]:
    """Decide an approval task. It takes effect in the project's workflow before the answer."""
    if body.action not in SUPPORTED_ACTIONS:
        raise ValidationFailed(
            [FieldViolation("action", f"暂不支持操作 {body.action}", f"action {body.action} is not supported yet")]
        )
    task = (await clients.approval.GetTask(approval_pb2.GetTaskRequest(task_id=task_id))).task
    bind_project(request, task.project_id)
    await visible_project(clients, user, task.project_id)  # 404 when the caller cannot see it
    if task.approver_id != user.id:
        raise Forbidden("你不是该审批任务的审批人", "you are not the approver of this task", code="not_approver")
    if task.status != approval_pb2.TASK_STATUS_PENDING:
        raise _already_decided()
    # Double clicks: only one decision per task is in flight; the other one answers 409 at once.
    lock = f"baobei:edge:decide:{task_id}"
    try:
        if not await clients.redis.set(lock, user.id, nx=True, ex=DECISION_LOCK_SECONDS):
            raise _already_decided()
    except RedisError:
        lock = ""  # without Redis the workflow still refuses the second decision
    try:
        result = await lifecycle.decide(
            clients,
            task.project_id,
            DecisionInput(task_id=task_id, user_id=user.id, action=body.action, comment=body.comment, channel="api"),
        )
    finally:
        if lock:
            with contextlib.suppress(RedisError):
                await clients.redis.delete(lock)
    return {"project_id": result.project_id or task.project_id, "status": result.status}


def _already_decided() -> Conflict:
    return Conflict("该审批任务已处理", "this approval task has already been decided", code="already_decided")
