"""gRPC surface of the tasks service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from sqlalchemy.engine import Engine

from baobei.core.db import run_once
from baobei.core.errors import ValidationFailed, require
from baobei.core.grpc_server import rpc
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from services.tasks import mapping, store
from services.tasks.models import processed_request


class TasksServicer(pb_grpc.TasksServiceServicer):
    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @rpc
    def CreateTask(self, request: pb.CreateTaskRequest, context: grpc.ServicerContext) -> pb.CreateTaskResponse:
        command = mapping.new_task(request)
        return run_once(
            self.engine,
            processed_request,
            request_id=command.request_id,
            method="CreateTask",
            response_type=pb.CreateTaskResponse,
            apply=lambda session: mapping.create_response(
                store.create_task(session, command=command, now=datetime.now(UTC))
            ),
        )

    @rpc
    def ListTasks(self, request: pb.ListTasksRequest, context: grpc.ServicerContext) -> pb.ListTasksResponse:
        violations = require(request.project_id, "project_id", "项目", "project_id")
        if violations:
            raise ValidationFailed(violations)
        return mapping.list_response(store.list_tasks(self.engine, project_id=request.project_id.strip()))
