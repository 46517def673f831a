"""The service RPCs behind the web app's work lists (issue 14), over real gRPC: the approval
service's ListDecided (已办), the tasks service's ListAssigneeTasks (我的任务) and the registry's
CheckConflicts (撞单 as one types: the create/submit rules, codes only of visible projects)."""

from __future__ import annotations

import uuid

import grpc
import pytest

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1 import approval_service_pb2_grpc as apb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from baobei.tasks.v1 import tasks_service_pb2 as tpb
from baobei.tasks.v1 import tasks_service_pb2_grpc as tpb_grpc
from tests.conftest import StartService
from tests.service.test_approval_service import decide, facts, nobody, open_step, plan, put, step
from tests.service.test_approval_service import registry_addr as registry_addr  # noqa: F401  (module fixture)
from tests.service.test_registry_service import FORM, ORG, OTHER_USCC, VALID_USCC, create, fails

# ---------------------------------------------------------------- 已办 (approval service)


@pytest.fixture(scope="module")
def approval(start_module_service: StartService, registry_addr: str) -> apb_grpc.ApprovalServiceStub:  # noqa: F811
    return apb_grpc.ApprovalServiceStub(start_module_service("approval", registry_addr=registry_addr).channel)


def test_list_decided_own_decisions_newest_first_without_auto(approval: apb_grpc.ApprovalServiceStub) -> None:
    # lead decides step 0; step 2 is auto-approved for lead (not lead's decision); ceo decides step 3
    put(approval, "wl-auto", "wl-auto", step("直属经理", "manager_of_submitter"), nobody("空步骤"),
        step("区域负责人", user="lead"), step("总裁", user="ceo"))
    first = facts("wl-auto")
    planned = plan(approval, first)
    [task] = open_step(approval, planned.instance_id, 0).tasks
    decide(approval, task, comment="同意")
    open_step(approval, planned.instance_id, 1)
    assert open_step(approval, planned.instance_id, 2).auto_approved
    [ceo_task] = open_step(approval, planned.instance_id, 3).tasks
    decide(approval, ceo_task)
    second = facts("wl-auto")
    planned2 = plan(approval, second)
    [task2] = open_step(approval, planned2.instance_id, 0).tasks
    decide(approval, task2, "reject", comment="不同意")

    got = approval.ListDecided(apb.ListDecidedRequest(user_id="lead", limit=100), timeout=10)
    mine = [i for i in got.items if i.project_id in (first.project_id, second.project_id)]
    assert [(i.task_id, i.project_id, i.action, i.step, i.step_index, i.comment) for i in mine] == [
        (task2.id, second.project_id, "reject", "直属经理", 0, "不同意"),
        (task.id, first.project_id, "approve", "直属经理", 0, "同意"),
    ]
    assert all(i.at.seconds > 0 for i in mine) and got.next_cursor == ""
    ceo = approval.ListDecided(apb.ListDecidedRequest(user_id="ceo"), timeout=10).items
    assert [(i.task_id, i.action, i.step) for i in ceo if i.project_id == first.project_id] == [
        (ceo_task.id, "approve", "总裁")]

    # one per page, same order, the last page has no cursor
    seen, cursor = [], ""
    while True:
        page = approval.ListDecided(apb.ListDecidedRequest(user_id="lead", limit=1, cursor=cursor), timeout=10)
        seen += [i.task_id for i in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert [s for s in seen if s in (task.id, task2.id)] == [task2.id, task.id]


def test_list_decided_refuses_bad_input(approval: apb_grpc.ApprovalServiceStub) -> None:
    for req in (apb.ListDecidedRequest(), apb.ListDecidedRequest(user_id="lead", limit=101),
                apb.ListDecidedRequest(user_id="lead", limit=-1), apb.ListDecidedRequest(user_id="lead", cursor="%%"),
                apb.ListDecidedRequest(user_id="lead", cursor="ZDotNQ")):  # "d:-5"
        with pytest.raises(grpc.RpcError) as err:
            approval.ListDecided(req, timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, req


# ---------------------------------------------------------------- 我的任务 (tasks service)


@pytest.fixture()
def tasks(start_service: StartService) -> tpb_grpc.TasksServiceStub:
    return tpb_grpc.TasksServiceStub(start_service("tasks").channel)


def test_list_assignee_tasks_by_due_date_nulls_last(tasks: tpb_grpc.TasksServiceStub) -> None:
    def task(project: str, name: str, due: str = "", assignee: str = "u1") -> tpb.Task:
        return tasks.CreateTask(tpb.CreateTaskRequest(request_id=uuid.uuid4().hex, project_id=project, name=name,
                                                      assignee_id=assignee, due=due, duration_days=1),
                                timeout=10).task

    undated = task("p1", "无期限")
    late = task("p2", "晚", "2030-05-02")
    early = task("p1", "早", "2030-05-01")
    same_day = task("p3", "同一天", "2030-05-02")
    task("p1", "别人的", "2030-04-01", assignee="u2")
    done = task("p2", "完成", "2030-06-01")
    tasks.UpdateTask(tpb.UpdateTaskRequest(request_id=uuid.uuid4().hex, task_id=done.id, status="done",
                                           actor_id="u1"), timeout=10)

    got = tasks.ListAssigneeTasks(tpb.ListAssigneeTasksRequest(user_id="u1"), timeout=10)
    assert [t.id for t in got.tasks] == [early.id, late.id, same_day.id, done.id, undated.id]
    assert got.next_cursor == ""
    assert got.tasks[0] == tasks.GetTask(tpb.GetTaskRequest(task_id=early.id), timeout=10).task
    open_ = tasks.ListAssigneeTasks(tpb.ListAssigneeTasksRequest(user_id="u1", status="open"), timeout=10)
    assert [t.id for t in open_.tasks] == [early.id, late.id, same_day.id, undated.id]
    only_done = tasks.ListAssigneeTasks(tpb.ListAssigneeTasksRequest(user_id="u1", status="done"), timeout=10)
    assert [t.id for t in only_done.tasks] == [done.id]

    for size in (1, 2, 3):
        seen, cursor = [], ""
        while True:
            page = tasks.ListAssigneeTasks(tpb.ListAssigneeTasksRequest(user_id="u1", limit=size, cursor=cursor),
                                           timeout=10)
            assert len(page.tasks) <= size
            seen += [t.id for t in page.tasks]
            cursor = page.next_cursor
            if not cursor:
                break
        assert seen == [early.id, late.id, same_day.id, done.id, undated.id], size


def test_list_assignee_tasks_refuses_bad_input(tasks: tpb_grpc.TasksServiceStub) -> None:
    for req in (tpb.ListAssigneeTasksRequest(), tpb.ListAssigneeTasksRequest(user_id="u1", status="finished"),
                tpb.ListAssigneeTasksRequest(user_id="u1", limit=101),
                tpb.ListAssigneeTasksRequest(user_id="u1", cursor="garbage!"),
                tpb.ListAssigneeTasksRequest(user_id="u1", cursor="WzEsMiwzXQ")):  # [1,2,3]
        with pytest.raises(grpc.RpcError) as err:
            tasks.ListAssigneeTasks(req, timeout=10)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, req


# ---------------------------------------------------------------- 撞单 check (registry)


@pytest.fixture()
def registry(start_service: StartService) -> pb_grpc.RegistryServiceStub:
    stub = pb_grpc.RegistryServiceStub(start_service("registry").channel)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(FORM, timeout=10)
    return stub


def check(
    stub: pb_grpc.RegistryServiceStub, viewer: str, name: str, uscc: str = "", **kw: str
) -> list[tuple[str, ...]]:
    resp = stub.CheckConflicts(pb.CheckConflictsRequest(viewer=pb.Viewer(user_id=viewer), form_key="standard",
                                                        customer=pb.Customer(name=name, uscc=uscc), **kw), timeout=10)
    assert resp.conflict_policy == "warn"
    return [(c.project_id, c.code, c.reason) for c in resp.conflicts]


def test_check_conflicts_matches_create_and_hides_codes(registry: pb_grpc.RegistryServiceStub) -> None:
    live = create(registry, owner_id="sales1", customer=pb.Customer(name="星辰科技有限公司", uscc=VALID_USCC))
    draft = create(registry, owner_id="sales2", customer=pb.Customer(name="星辰科技", uscc=VALID_USCC))
    assert check(registry, "sales1", "星辰科技有限公司") == []  # drafts are not live
    registry.SubmitProject(pb.SubmitProjectRequest(request_id="wl-s", project_id=live.id, actor_id="sales1"),
                           timeout=10)

    # the same answers create gives (reasons included), with the code for the owner and the manager
    made = create(registry, owner_id="sales2", customer=pb.Customer(name=" 星辰 科技 ", uscc=VALID_USCC))
    expected = [(c.project_id, c.reason) for c in made.conflicts]
    assert expected == [(live.id, "客户统一社会信用代码相同；客户名称相同")]
    assert check(registry, "sales1", " 星辰 科技 ", VALID_USCC.lower()) == [(live.id, live.code, expected[0][1])]
    assert check(registry, "mgr_sh", " 星辰 科技 ", VALID_USCC) == [(live.id, live.code, expected[0][1])]
    # someone who may not see it (another region's manager, another rep): id and reason, no code
    assert check(registry, "mgr_bj", " 星辰 科技 ", VALID_USCC) == [(live.id, "", expected[0][1])]
    assert check(registry, "sales2", "完全不同的名字", VALID_USCC) == [(live.id, "", "客户统一社会信用代码相同")]
    # a USCC still being typed is ignored; the project being edited is left out
    assert check(registry, "sales2", "完全不同的名字", VALID_USCC[:8]) == []
    assert check(registry, "sales1", "星辰科技", OTHER_USCC, project_id=live.id) == []
    assert check(registry, "sales2", "星辰科技", project_id=draft.id) == [(live.id, "", "客户名称相同")]
    # nothing was stored
    again = registry.GetProject(pb.GetProjectRequest(project_id=draft.id), timeout=10).project
    assert again.conflicts == draft.conflicts


def test_check_conflicts_refuses_bad_input(registry: pb_grpc.RegistryServiceStub) -> None:
    f = fails(registry.CheckConflicts, pb.CheckConflictsRequest(customer=pb.Customer(name="x")),
              grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["form_key"]
    fails(registry.CheckConflicts, pb.CheckConflictsRequest(form_key="nope", customer=pb.Customer(name="x")),
          grpc.StatusCode.NOT_FOUND)
