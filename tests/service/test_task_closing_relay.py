"""The task-closing relay over real gRPC (approval, notify, registry) and the DingTalk stand-in:
whatever closed an approval task — here an 或签 colleague's decision — the relay hands the
approval service's outbox to notify.CloseTask, and each person's work notice and 待办 is closed
once, with the closer's name from the directory; a relay run twice (a crash before the
acknowledgement) changes nothing more."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import grpc
import pytest

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1 import approval_service_pb2_grpc as apb_grpc
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from tests.conftest import StartService
from tests.service.test_notify_delivery import Notify, make_notify, rid
from tests.standins.dingtalk_app import DingTalkAppStandIn
from workflows.task_closings import TaskClosingRelay

__all__ = ["make_notify"]


@pytest.fixture(scope="module")
def registry_addr(start_module_service: StartService) -> str:
    registry = start_module_service("registry")
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(rpb.UpsertOrgRequest(
        request_id=rid(), departments=[rpb.Department(id="hq", name="总部")],
        users=[rpb.User(id="rep", name="张三", department_id="hq"),
               rpb.User(id="fin1", name="王五", department_id="hq", roles=["finance"]),
               rpb.User(id="fin2", name="赵六", department_id="hq", roles=["finance"])]), timeout=10)
    return registry.addr


@pytest.fixture()
def dingtalk() -> Iterator[DingTalkAppStandIn]:
    with DingTalkAppStandIn() as dt:
        dt.add_person("fin1", userid="fin1", name="王五")
        dt.add_person("fin2", userid="fin2", name="赵六")
        yield dt


def relay_once(approval_addr: str, notify: Notify) -> int:
    async def run() -> int:
        async with grpc.aio.insecure_channel(approval_addr) as ach, grpc.aio.insecure_channel(notify.addr) as nch:
            relay = TaskClosingRelay(apb_grpc.ApprovalServiceStub(ach), npb_grpc.NotifyServiceStub(nch))
            return await relay.run_once()

    return asyncio.run(run())


def test_a_colleagues_decision_closes_the_other_card_and_todo_once(
    start_service: StartService, registry_addr: str, make_notify: Callable[..., Notify],
    dingtalk: DingTalkAppStandIn,
) -> None:
    approval = start_service("approval", registry_addr=registry_addr)
    stub = apb_grpc.ApprovalServiceStub(approval.channel)
    n = make_notify()
    key, secret = dingtalk.add_app()
    n.stub.PutChannel(npb.PutChannelRequest(request_id=rid(), channel=npb.Channel(
        key="ding-app", type="dingtalk_app", app_key=key, secret=secret, agent_id=str(dingtalk.agent_id(key)),
        api_base=dingtalk.base, enabled=True, options={"org_synced": "true"})), timeout=10)
    # 或签 of two finance approvers; each gets a work notice and a 待办.
    step = apb.PolicyStep(name="财务", approvers=apb.Approvers(type="role", role="finance"), mode="any")
    stub.PutPolicy(apb.PutPolicyRequest(request_id=rid(), key="relay", form_key="relay", steps=[step]), timeout=10)
    facts = apb.ProjectFacts(project_id="p-relay", form_key="relay", name="项目", amount="1000")
    planned = stub.PlanChain(apb.PlanChainRequest(request_id=rid(), project=facts, submitter_id="rep"), timeout=10)
    opened = stub.OpenStep(apb.OpenStepRequest(request_id=rid(), instance_id=planned.instance_id, step_index=0),
                           timeout=10)
    tasks = {t.approver_id: t for t in opened.tasks}
    for user, task in tasks.items():
        n.prefs(user, ["dingtalk_app"])
        sent = n.send([user], kind="approval_request", title="待审批", action_tasks={user: task.id},
                      project_id="p-relay", context={"code": "BB-1", "name": "项目", "step": "财务"})
        assert n.deliver(sent.deliveries[0].id, attempt=1).outcome == "delivered"
    assert relay_once(approval.addr, n) == 0  # nothing closed yet
    # fin1 approves in the web app: fin1's task is approved, fin2's closed with it.
    stub.RecordDecision(apb.RecordDecisionRequest(request_id=rid(), task_id=tasks["fin1"].id, actor_id="fin1",
                                                  action="approve", channel="api"), timeout=10)
    assert relay_once(approval.addr, n) == 2
    assert relay_once(approval.addr, n) == 0  # acknowledged: not handed over again
    updates = [d for d in n.stub.ListDeliveries(npb.ListDeliveriesRequest(project_id="p-relay"), timeout=10).deliveries
               if d.kind == "im_card_update"]
    assert len(updates) == 2
    for u in updates:
        assert n.deliver(u.id, attempt=1).outcome == "delivered"
    notices = {p: dingtalk.notices_for(p) for p in ("fin1", "fin2")}
    assert [x.status for x in notices["fin1"]] == ["已同意 · 王五"]
    assert [x.status for x in notices["fin2"]] == ["已由他人处理 · 王五"]
    # fin1's 待办 is done; fin2 did nothing, so theirs is removed rather than shown as done by them.
    [mine] = dingtalk.todos_for(dingtalk.people["fin1"].unionid)
    [theirs] = dingtalk.todos_for(dingtalk.people["fin2"].unionid)
    assert (mine.done, mine.deleted, theirs.deleted) == (True, False, True)
    # The same task closed again (a relay that crashed before acknowledging): nothing more happens.
    n.stub.CloseTask(npb.CloseTaskRequest(request_id=rid(), task_id=tasks["fin2"].id,
                                          project_id="p-relay", outcome="closed", actor_id="fin1"), timeout=10)
    assert len(dingtalk.status_updates) == 2
