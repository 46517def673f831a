from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
import sqlalchemy as sa

from baobei.core.db import make_engine
from baobei.core.grpc_client import metadata, read_failure
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from tests.conftest import StartService


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("tasks")


@pytest.fixture()
def stub(db_url: str, start_service: StartService) -> pb_grpc.TasksServiceStub:
    return pb_grpc.TasksServiceStub(start_service("tasks", db_url=db_url).channel)


def create(stub: pb_grpc.TasksServiceStub, request_id: str, **kw: object) -> pb.Task:
    kw.setdefault("project_id", "p1")
    kw.setdefault("name", "任务")
    return stub.CreateTask(pb.CreateTaskRequest(request_id=request_id, **kw), timeout=10).task  # type: ignore[arg-type]


def count(db_url: str, table: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_create_and_list_in_creation_order_with_dependencies(stub: pb_grpc.TasksServiceStub) -> None:
    design = create(stub, "r1", name="方案设计", assignee_id="u1", start="2026-12-01", due="2026-12-05",
                    duration_days=5)
    assert design.status == pb.TASK_STATUS_TODO and design.progress == 0
    assert (design.start, design.due, design.duration_days, design.assignee_id) == ("2026-12-01", "2026-12-05", 5, "u1")
    assert design.created_at.seconds > 0 and design.id
    build_ = create(stub, "r2", name="实施", depends_on=[
        pb.Dependency(task_id=design.id, type=pb.DEPENDENCY_TYPE_FS, lag_days=2)])
    accept = create(stub, "r3", name="验收", milestone=True, depends_on=[
        pb.Dependency(task_id=build_.id, type=pb.DEPENDENCY_TYPE_FF),
        pb.Dependency(task_id=design.id, type=pb.DEPENDENCY_TYPE_SS, lag_days=-1)])
    create(stub, "r-other", project_id="p2", name="别的项目")

    tasks = stub.ListTasks(pb.ListTasksRequest(project_id="p1"), timeout=10).tasks
    assert [t.name for t in tasks] == ["方案设计", "实施", "验收"]
    assert list(tasks[0].depends_on) == []
    assert [(d.task_id, d.type, d.lag_days) for d in tasks[1].depends_on] == [(design.id, pb.DEPENDENCY_TYPE_FS, 2)]
    assert [(d.task_id, d.type, d.lag_days) for d in tasks[2].depends_on] == [
        (build_.id, pb.DEPENDENCY_TYPE_FF, 0), (design.id, pb.DEPENDENCY_TYPE_SS, -1)]
    assert tasks[2].milestone and tasks[2] == accept
    assert tasks[0].start == "2026-12-01" and tasks[1].start == "" and tasks[1].due == ""
    assert stub.ListTasks(pb.ListTasksRequest(project_id="p-none"), timeout=10).tasks == []


def test_create_is_idempotent_on_request_id(stub: pb_grpc.TasksServiceStub, db_url: str) -> None:
    a = create(stub, "same", name="一次")
    b = create(stub, "same", name="一次")
    assert a == b
    assert len(stub.ListTasks(pb.ListTasksRequest(project_id="p1"), timeout=10).tasks) == 1

    barrier = threading.Barrier(6)

    def go(_: int) -> pb.Task:
        barrier.wait()
        return create(stub, "race", name="并发", depends_on=[pb.Dependency(task_id=a.id, type=pb.DEPENDENCY_TYPE_FS)])

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(go, range(6)))
    assert all(r == results[0] for r in results)
    assert count(db_url, "task") == 2 and count(db_url, "task_dependency") == 1


def test_validation_failures_carry_field_paths(stub: pb_grpc.TasksServiceStub) -> None:
    other = create(stub, "r-p2", project_id="p2", name="别的项目的任务")
    mine = create(stub, "r-p1", name="本项目")
    req = pb.CreateTaskRequest(
        request_id="bad", project_id="p1", name="", start="2026-12-05", due="2026-12-01", duration_days=-3,
        depends_on=[
            pb.Dependency(task_id=mine.id, type=pb.DEPENDENCY_TYPE_FS),
            pb.Dependency(task_id=other.id, type=pb.DEPENDENCY_TYPE_FS),
            pb.Dependency(task_id="no-such-task", type=pb.DEPENDENCY_TYPE_SS),
            pb.Dependency(task_id=mine.id, type=pb.DEPENDENCY_TYPE_UNSPECIFIED),
        ],
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateTask(req, timeout=10, metadata=metadata(locale="en"))
    failure = read_failure(err.value)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
    fields = [v.field for v in failure.violations]
    assert fields == ["name", "due", "duration_days", "depends_on[1].task_id", "depends_on[2].task_id",
                      "depends_on[3].task_id", "depends_on[3].type"]
    assert failure.violations[1].zh == "due must not be before start"

    with pytest.raises(grpc.RpcError) as err:
        stub.CreateTask(pb.CreateTaskRequest(request_id="bad2", project_id="", name="x", start="12/01/2026"),
                        timeout=10)
    assert [v.field for v in read_failure(err.value).violations] == ["project_id", "start"]
    assert [t.id for t in stub.ListTasks(pb.ListTasksRequest(project_id="p1"), timeout=10).tasks] == [mine.id]


def test_list_requires_project_id(stub: pb_grpc.TasksServiceStub) -> None:
    with pytest.raises(grpc.RpcError) as err:
        stub.ListTasks(pb.ListTasksRequest(), timeout=10)
    assert [v.field for v in read_failure(err.value).violations] == ["project_id"]
