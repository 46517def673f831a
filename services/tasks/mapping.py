"""The only place where tasks protobuf messages meet domain objects."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from baobei.tasks.v1 import tasks_service_pb2 as pb
from services.tasks import domain

_DEP_FROM_PB = {
    pb.DEPENDENCY_TYPE_FS: domain.DependencyType.FS,
    pb.DEPENDENCY_TYPE_SS: domain.DependencyType.SS,
    pb.DEPENDENCY_TYPE_FF: domain.DependencyType.FF,
    pb.DEPENDENCY_TYPE_SF: domain.DependencyType.SF,
}
_DEP_TO_PB = {v: k for k, v in _DEP_FROM_PB.items()}
_STATUS_TO_PB = {
    domain.TaskStatus.TODO: pb.TASK_STATUS_TODO,
    domain.TaskStatus.IN_PROGRESS: pb.TASK_STATUS_IN_PROGRESS,
    domain.TaskStatus.DONE: pb.TASK_STATUS_DONE,
    domain.TaskStatus.BLOCKED: pb.TASK_STATUS_BLOCKED,
}


def new_task(request: pb.CreateTaskRequest) -> domain.NewTask:
    return domain.NewTask(
        request_id=request.request_id,
        project_id=request.project_id,
        name=request.name,
        assignee_id=request.assignee_id,
        start=request.start,
        due=request.due,
        duration_days=request.duration_days,
        milestone=request.milestone,
        # UNSPECIFIED and unknown enum numbers both map to None (a validation error)
        depends_on=tuple(
            domain.Dependency(task_id=d.task_id, type=_DEP_FROM_PB.get(d.type), lag_days=d.lag_days)
            for d in request.depends_on
        ),
    )


def _timestamp(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def task(t: domain.Task) -> pb.Task:
    return pb.Task(
        id=t.id,
        project_id=t.project_id,
        name=t.name,
        assignee_id=t.assignee_id,
        start=t.start.isoformat() if t.start else "",
        due=t.due.isoformat() if t.due else "",
        duration_days=t.duration_days,
        milestone=t.milestone,
        status=_STATUS_TO_PB[t.status],
        progress=t.progress,
        depends_on=[
            pb.Dependency(task_id=d.task_id, type=_DEP_TO_PB[d.type], lag_days=d.lag_days)
            for d in t.depends_on
            if d.type is not None
        ],
        created_at=_timestamp(t.created_at),
    )


def create_response(t: domain.Task) -> pb.CreateTaskResponse:
    return pb.CreateTaskResponse(task=task(t))


def list_response(tasks: list[domain.Task]) -> pb.ListTasksResponse:
    return pb.ListTasksResponse(tasks=[task(t) for t in tasks])
