"""The approval-request outbox over real gRPC (registry, approval, notify; SQLite by default or
PostgreSQL): OpenStep naming a notice writes one approval request per pending task it creates, in
its transaction (a refused opening, a replayed request, a re-opening and a step settled without
approvers' tasks write none), with the request ids the lifecycle workflow gave its own sends; the
worker's relay sends each through the Send activity's code — what the approver may not read is
hidden — once, even after a crash between send and acknowledgement or next to an older history
that sent it itself; a notice notify refuses for good is logged without its content and
acknowledged."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
import structlog
from google.protobuf import struct_pb2
from sqlmodel import Session

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1 import approval_service_pb2_grpc as apb_grpc
from baobei.core.db import make_engine
from baobei.core.event_outbox import publish_row
from baobei.core.grpc_client import read_failure
from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from tests.conftest import RunningService, StartService
from workflows.activities.notify import send_notification
from workflows.notice_relay import NoticeRelay, send_input

AMOUNT = "888777.66"


def rid() -> str:
    return uuid.uuid4().hex


def refused(fn: Callable[..., Any], req: Any, code: grpc.StatusCode) -> Any:
    with pytest.raises(grpc.RpcError) as err:
        fn(req, timeout=10)
    assert err.value.code() == code, err.value.details()
    return read_failure(err.value)


def claimed(appr: apb_grpc.ApprovalServiceStub) -> list[apb.OutboxNotice]:
    return list(appr.ClaimNotices(apb.ClaimNoticesRequest(limit=100), timeout=10).notices)


async def _with_stubs(registry: RunningService, approval: RunningService, notify: RunningService,
                      body: Callable[[NoticeRelay], Any]) -> Any:
    async with (grpc.aio.insecure_channel(registry.addr) as g, grpc.aio.insecure_channel(approval.addr) as a,
                grpc.aio.insecure_channel(notify.addr) as n):
        relay = NoticeRelay(apb_grpc.ApprovalServiceStub(a), npb_grpc.NotifyServiceStub(n),
                            rpb_grpc.RegistryServiceStub(g))
        return await body(relay)


def relay_once(registry: RunningService, approval: RunningService, notify: RunningService) -> int:
    async def run(relay: NoticeRelay) -> int:
        return await relay.run_once()

    result: int = asyncio.run(_with_stubs(registry, approval, notify, run))
    return result


def send_without_ack(registry: RunningService, approval: RunningService, notify: RunningService,
                     notice: apb.Notice) -> None:
    """What a relay that crashed after notify.Send and before AckNotices did."""

    async def run(relay: NoticeRelay) -> None:
        await send_notification(relay.notify, relay.registry, send_input(notice), timeout=10,
                                log=structlog.get_logger("test"))

    asyncio.run(_with_stubs(registry, approval, notify, run))


def inbox(notify: npb_grpc.NotifyServiceStub, user: str) -> list[npb.Notification]:
    items = notify.ListInbox(npb.ListInboxRequest(user_id=user, limit=50), timeout=10).items
    return [n for n in items if n.kind == "approval_request"]


def test_openings_publish_approval_requests_the_relay_sends_once_redacted(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    registry = start_service("registry", db_url=make_db_url("registry"))
    reg = rpb_grpc.RegistryServiceStub(registry.channel)
    reg.UpsertOrg(rpb.UpsertOrgRequest(request_id=rid(), departments=[rpb.Department(id="hq", name="总部")], users=[
        rpb.User(id="rep", name="张三", department_id="hq", roles=["sales"]),
        rpb.User(id="mgr", name="李四", department_id="hq", roles=["boss"]),
        rpb.User(id="fin1", name="王五", department_id="hq", roles=["finance"]),
        rpb.User(id="fin2", name="赵六", department_id="hq", roles=["finance"])]), timeout=10)
    # The amount is for finance's eyes only.
    reg.PutForm(rpb.PutFormRequest(request_id=rid(), key="guarded", title="受限报备",
                                   fields=[rpb.FormField(key="note", label="备注", type="text")],
                                   settings=rpb.FormSettings(core_fields=[
                                       rpb.CoreFieldAccess(field="amount", read_roles=["finance"])])), timeout=10)
    project = reg.CreateProject(rpb.CreateProjectRequest(
        request_id=rid(), owner_id="rep", form_key="guarded", name="智慧园区",
        customer=rpb.Customer(name="华东制造有限公司"), amount=AMOUNT), timeout=10).project
    approval = start_service("approval", registry_addr=registry.addr, db_url=make_db_url("approval"))
    appr = apb_grpc.ApprovalServiceStub(approval.channel)
    notify = start_service("notify", settings=Settings(base_url="https://baobei.test"), registry_addr=registry.addr,
                           redis_url="", db_url=make_db_url("notify"))
    ntf = npb_grpc.NotifyServiceStub(notify.channel)

    steps = [apb.PolicyStep(name="经理", approvers=apb.Approvers(type="user", user_id="mgr")),
             apb.PolicyStep(name="经理复核", approvers=apb.Approvers(type="user", user_id="mgr")),
             apb.PolicyStep(name="财务会签", approvers=apb.Approvers(type="role", role="finance"), mode="all")]
    appr.PutPolicy(apb.PutPolicyRequest(request_id=rid(), key="guarded", form_key="guarded", steps=steps), timeout=10)
    facts = apb.ProjectFacts(project_id=project.id, form_key="guarded", name="智慧园区", amount=AMOUNT)
    inst = appr.PlanChain(apb.PlanChainRequest(request_id=rid(), project=facts, submitter_id="rep"),
                          timeout=10).instance_id
    wid = f"project-{project.id}"
    # The workflow's template context (ProjectLifecycle._context) and request-id prefix.
    context = struct_pb2.Struct()
    context.update({"project_id": project.id, "code": project.code, "name": "智慧园区", "customer": "华东制造有限公司",
                    "amount": AMOUNT, "step": "经理", "escalated": False})

    def notice(index: int) -> apb.NoticeSpec:
        return apb.NoticeSpec(kind="approval_request", project_id=project.id, context=context,
                              request_id_prefix=f"{wid}:notify:1:step{index}")

    def open_step(index: int, request_id: str = "", spec: apb.NoticeSpec | None = None) -> apb.OpenStepResponse:
        req = apb.OpenStepRequest(request_id=request_id or rid(), instance_id=inst, step_index=index,
                                  notice=spec or notice(index))
        resp: apb.OpenStepResponse = appr.OpenStep(req, timeout=10)
        return resp

    # Refused openings write nothing: step 2 before step 0 is done, a notice of an unknown kind
    # (naming the field).
    refused(appr.OpenStep, apb.OpenStepRequest(request_id=rid(), instance_id=inst, step_index=2, notice=notice(2)),
            grpc.StatusCode.FAILED_PRECONDITION)
    bad = notice(0)
    bad.kind = "approval_cc"
    failure = refused(appr.OpenStep, apb.OpenStepRequest(request_id=rid(), instance_id=inst, step_index=0, notice=bad),
                      grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["notice.kind"]
    assert claimed(appr) == []

    # The opening: one approval request for its task, with the workflow's request id; the same
    # request again (a retried activity) and a continued run's re-opening write no more.
    first = rid()
    opened = open_step(0, first)
    [task] = opened.tasks
    assert opened.notices_published  # the caller sends none itself
    assert open_step(0, first) == opened
    assert not open_step(0).notices_published
    [row] = claimed(appr)
    n = row.notice
    assert (n.request_id, n.recipient_id, n.kind, n.project_id, dict(n.action_tasks)) == (
        f"{wid}:notify:1:step0:mgr:{task.id}", "mgr", "approval_request", project.id, {"mgr": task.id})
    assert (n.context["task_id"], n.context["step"], n.context["amount"]) == (task.id, "经理", AMOUNT)

    # A relay that sent it and crashed before acknowledging, and an older history that sends the
    # same request itself: still one notification once the relay has run.
    send_without_ack(registry, approval, notify, n)
    ntf.Send(npb.SendRequest(request_id=n.request_id, recipient_ids=["mgr"], kind="approval_request",
                             project_id=project.id, action_tasks={"mgr": task.id}, context=n.context), timeout=10)
    assert relay_once(registry, approval, notify) == 1
    assert claimed(appr) == []
    assert relay_once(registry, approval, notify) == 0
    [mine] = inbox(ntf, "mgr")
    # The manager may not read the amount: the request does not show it; the action link is his.
    assert AMOUNT not in mine.title + mine.body and "金额" not in mine.body, mine.body
    assert "华东制造有限公司" in mine.body and task.id in mine.body
    token = mine.action_url.rsplit("/a/", 1)[1]
    link = ntf.ResolveActionLink(npb.ResolveActionLinkRequest(token=token), timeout=10).link
    assert (link.approver_id, link.task_id) == ("mgr", task.id)

    # Step 1 is auto-approved (the same approver): it asks nobody. Step 2 asks both of finance,
    # who may read the amount.
    appr.RecordDecision(apb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id="mgr",
                                                  action="approve", channel="web"), timeout=10)
    auto = open_step(1)
    assert auto.auto_approved and not auto.notices_published
    assert claimed(appr) == []
    both = open_step(2)
    assert both.notices_published
    finance = {t.approver_id: t.id for t in both.tasks}
    assert sorted(r.notice.request_id for r in claimed(appr)) == sorted(
        f"{wid}:notify:1:step2:{u}:{t}" for u, t in finance.items())
    assert relay_once(registry, approval, notify) == 2
    for user, task_id in finance.items():
        [request] = inbox(ntf, user)
        assert f"金额：{AMOUNT} 元" in request.body and task_id in request.body and "财务会签" in request.body


def test_a_notice_notify_refuses_is_logged_without_content_and_acknowledged(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    registry = start_service("registry", db_url=make_db_url("registry"))
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(rpb.UpsertOrgRequest(
        request_id=rid(), departments=[rpb.Department(id="hq", name="总部")],
        users=[rpb.User(id="mgr", name="李四", department_id="hq")]), timeout=10)
    approval_url = make_db_url("approval")
    approval = start_service("approval", registry_addr=registry.addr, db_url=approval_url)
    notify = start_service("notify", settings=Settings(base_url="https://baobei.test"), registry_addr=registry.addr,
                           redis_url="", db_url=make_db_url("notify"))

    from services.approval.models import notice_outbox

    def row(recipient: str, request_id: str) -> apb.Notice:
        context = struct_pb2.Struct()
        context.update({"name": "项目", "amount": AMOUNT, "task_id": "t1"})
        return apb.Notice(request_id=request_id, recipient_id=recipient, kind="approval_request",
                          project_id="p-none", action_tasks={recipient: "t1"}, context=context)

    # A recipient id notify can never accept (too long), then a good one behind it.
    notices = [row("x" * 150, "bad-1"), row("mgr", "good-1")]
    engine = make_engine(approval_url)
    try:
        with Session(engine) as session, session.begin():
            for n in notices:
                publish_row(session, notice_outbox, event_id=n.request_id, data=n.SerializeToString())
    finally:
        engine.dispose()
    with structlog.testing.capture_logs() as logs:
        assert relay_once(registry, approval, notify) == 2
    assert claimed(apb_grpc.ApprovalServiceStub(approval.channel)) == []
    [refusal] = [e for e in logs if e["event"] == "notices.refused"]
    assert refusal["request_id"] == "bad-1" and refusal["error_type"]
    assert AMOUNT not in str(refusal)
    [got] = inbox(npb_grpc.NotifyServiceStub(notify.channel), "mgr")
    assert got.project_id == "p-none"


def test_a_decision_opening_the_next_step_publishes_its_approval_requests(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    """RecordDecision's open_next (the OpenStep request the workflow would make next) carries the
    notice: the next step's approval requests are written in the decision's transaction, and the
    later OpenStep under that request id answers the same opening and writes none."""
    registry = start_service("registry", db_url=make_db_url("registry"))
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(rpb.UpsertOrgRequest(
        request_id=rid(), departments=[rpb.Department(id="hq", name="总部")],
        users=[rpb.User(id="rep", name="张三", department_id="hq"), rpb.User(id="mgr", name="李四", department_id="hq"),
               rpb.User(id="fin1", name="王五", department_id="hq", roles=["finance"])]), timeout=10)
    approval = start_service("approval", registry_addr=registry.addr, db_url=make_db_url("approval"))
    appr = apb_grpc.ApprovalServiceStub(approval.channel)
    steps = [apb.PolicyStep(name="经理", approvers=apb.Approvers(type="user", user_id="mgr")),
             apb.PolicyStep(name="财务", approvers=apb.Approvers(type="role", role="finance"))]
    appr.PutPolicy(apb.PutPolicyRequest(request_id=rid(), key="two", form_key="two", steps=steps), timeout=10)
    facts = apb.ProjectFacts(project_id="p-two", form_key="two", name="项目", amount="1")
    inst = appr.PlanChain(apb.PlanChainRequest(request_id=rid(), project=facts, submitter_id="rep"),
                          timeout=10).instance_id
    wid = "project-p-two"
    context = struct_pb2.Struct()
    context.update({"project_id": "p-two", "name": "项目", "escalated": False})

    def open_req(index: int, kind: str = "approval_request") -> apb.OpenStepRequest:
        return apb.OpenStepRequest(request_id=f"{wid}:open:1:{index}:1", instance_id=inst, step_index=index,
                                   notice=apb.NoticeSpec(kind=kind, project_id="p-two", context=context,
                                                         request_id_prefix=f"{wid}:notify:1:step{index}"))

    [task] = appr.OpenStep(open_req(0), timeout=10).tasks
    for row in claimed(appr):
        appr.AckNotices(apb.AckNoticesRequest(seqs=[row.seq]), timeout=10)
    decide = apb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id="mgr", action="approve",
                                       channel="api", open_next=open_req(1, kind="approval_cc"))
    failure = refused(appr.RecordDecision, decide, grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["open_next.notice.kind"]
    assert claimed(appr) == []
    decide.open_next.CopyFrom(open_req(1))
    nxt = appr.RecordDecision(decide, timeout=10).next_opened
    [fin] = nxt.tasks
    assert nxt.notices_published
    [row] = claimed(appr)
    assert (row.notice.request_id, row.notice.context["step"]) == (f"{wid}:notify:1:step1:fin1:{fin.id}", "财务")
    # The workflow's main loop takes that opening (or asks OpenStep with the same id): no more.
    assert appr.OpenStep(open_req(1), timeout=10) == nxt
    assert [r.seq for r in claimed(appr)] == [row.seq]
