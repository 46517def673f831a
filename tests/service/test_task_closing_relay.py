"""The task-closing relay over real gRPC (approval, notify, registry) and the DingTalk stand-in:
whatever closed an approval task — here an 或签 colleague's decision — the relay hands the
approval service's outbox to notify.CloseTasks, one call per round, and each person's work notice
and 待办 is closed once, with the closer's name from the directory; a relay run twice (a crash
before the acknowledgement) changes nothing more. A closing notify refuses for good is logged and
acknowledged, one it could not apply this time stays for the next round; neither holds up the
others."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import grpc
import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1 import approval_service_pb2_grpc as apb_grpc
from baobei.core.db import make_engine
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from tests.conftest import StartService
from tests.service.test_notify_batches import Calls, fail_inserts
from tests.service.test_notify_delivery import Notify, make_notify, rid
from tests.service.test_notify_personal import sent_card
from tests.standins.dingtalk_app import DingTalkAppStandIn
from workflows.outbox_loop import RoundIncomplete
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
    counted = Calls("CloseTasks", "CloseTask")
    assert relay_once(approval.addr, n) == 0  # nothing closed yet: no call to notify
    # fin1 approves in the web app: fin1's task is approved, fin2's closed with it.
    stub.RecordDecision(apb.RecordDecisionRequest(request_id=rid(), task_id=tasks["fin1"].id, actor_id="fin1",
                                                  action="approve", channel="api"), timeout=10)
    assert relay_once(approval.addr, n) == 2
    assert relay_once(approval.addr, n) == 0  # acknowledged: not handed over again
    assert counted() == {"CloseTasks": 1, "CloseTask": 0}  # both closings in one call
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


def add_closings(db_url: str, *closings: tuple[str, str]) -> None:
    """Rows of the approval service's task-closing outbox, as a closing transaction writes them."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO approval_task_closing (task_id, instance_id, project_id, approver_id, outcome,"
                " actor_id, created_at, relayed) VALUES (:t, 'i-1', 'p-1', 'fin1', :o, 'fin1', :at, false)"),
                [{"t": task, "o": outcome, "at": datetime.now(UTC)} for task, outcome in closings])
    finally:
        engine.dispose()


def unrelayed(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.text(
                "SELECT task_id FROM approval_task_closing WHERE NOT relayed ORDER BY seq"))]
    finally:
        engine.dispose()


def test_one_call_per_round_and_a_bad_closing_holds_up_none(
    start_service: StartService, registry_addr: str, make_notify: Callable[..., Notify],
) -> None:
    approval = start_service("approval", registry_addr=registry_addr)
    n = make_notify(redis=False)
    for task in ("t-a", "t-c", "t-d"):
        sent_card(n, task, recipient="fin1")
    # A closing notify refuses for good (an outcome it does not know), one whose close fails in
    # notify's database this time, and two good ones.
    add_closings(approval.db_url, ("t-a", "approved"), ("t-b", "maybe"), ("t-c", "closed"), ("t-d", "rejected"))
    restore = fail_inserts(n, "im_task", task_id="t-d")
    counted = Calls("CloseTasks", "CloseTask")
    with capture_logs() as logs, pytest.raises(RoundIncomplete):
        relay_once(approval.addr, n)
    assert counted() == {"CloseTasks": 1, "CloseTask": 0}
    # Applied and refused are acknowledged; the failed one waits for the next round.
    assert unrelayed(approval.db_url) == ["t-d"]
    [refused] = [e for e in logs if e["event"] == "task_closings.refused"]
    assert (refused["task_id"], refused["outcome"], refused["fields"]) == ("t-b", "maybe", ["outcome"])
    assert sorted(r[0] for r in n.rows("SELECT task_id FROM im_task")) == ["t-a", "t-c"]
    restore()
    assert relay_once(approval.addr, n) == 1
    assert unrelayed(approval.db_url) == []
    assert relay_once(approval.addr, n) == 0
    assert counted() == {"CloseTasks": 2, "CloseTask": 0}
    updates = n.rows("SELECT payload FROM delivery WHERE kind = 'im_card_update'")
    assert len(updates) == 3  # one per card, each once
