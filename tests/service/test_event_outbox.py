"""The reporting-event outbox over real gRPC (registry, approval, reporting, SQLite by default or
PostgreSQL): registry and approval write a project's reporting events in the transaction of each
change (a refused change writes none), with the ids the lifecycle workflow used; the worker's relay
ships them to reporting.IngestEvents and acknowledges them, exactly once even when it crashed
between the two; and reporting ends with the projection an in-order feed gives, although the
registry's project.approved now reaches it before approval's step and decision events."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from baobei.approval.v1 import approval_service_pb2 as apb
from baobei.approval.v1 import approval_service_pb2_grpc as apb_grpc
from baobei.core.db import make_engine
from baobei.core.grpc_client import read_failure
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from tests.conftest import RunningService, StartService
from workflows.event_relay import EventRelay, approval_source, registry_source

S = rpb.ProjectStatus


def rid() -> str:
    return uuid.uuid4().hex


def claimed(stub: Any, module: Any) -> list[pb.Event]:
    return [pb.Event.FromString(e.event) for e in stub.ClaimEvents(module.ClaimEventsRequest(limit=100),
                                                                    timeout=10).events]


def refused(fn: Callable[..., Any], req: Any, code: grpc.StatusCode) -> Any:
    with pytest.raises(grpc.RpcError) as err:
        fn(req, timeout=10)
    assert err.value.code() == code, err.value.details()
    return read_failure(err.value)


def table(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def relay_once(registry: RunningService, approval: RunningService, reporting: RunningService) -> bool:
    async def run() -> bool:
        async with (grpc.aio.insecure_channel(registry.addr) as g, grpc.aio.insecure_channel(approval.addr) as a,
                    grpc.aio.insecure_channel(reporting.addr) as r):
            # Registry first: its project.approved reaches reporting before approval's events of
            # the same project (the order the workflow used to send them in is not kept).
            relay = EventRelay([registry_source(rpb_grpc.RegistryServiceStub(g)),
                                approval_source(apb_grpc.ApprovalServiceStub(a))], pb_grpc.ReportingServiceStub(r))
            return await relay.run_once()

    return asyncio.run(run())


# What the projections hold, without the columns that say when reporting received an event.
PROJECT = "SELECT project_id, status, code, name, amount_cents, created_at, submitted_at, approved_at FROM project_view"
STEPS = ("SELECT instance_id, step_index, step, approvers, opened_at, closed_at, outcome FROM approval_step_view "
         "ORDER BY instance_id, step_index")
DECISIONS = ("SELECT event_id, instance_id, step_index, step, user_id, action, channel, at "
             "FROM approval_decision_view ORDER BY event_id")


def test_outbox_publishes_with_the_change_and_relays_exactly_once(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    registry = start_service("registry", db_url=make_db_url("registry"))
    reg = rpb_grpc.RegistryServiceStub(registry.channel)
    reg.UpsertOrg(rpb.UpsertOrgRequest(request_id=rid(), departments=[rpb.Department(id="hq", name="总部")],
                                       users=[rpb.User(id="rep", name="张三", department_id="hq", roles=["sales"]),
                                              rpb.User(id="mgr", name="李四", department_id="hq", roles=["boss"])]),
                  timeout=10)
    reg.PutForm(rpb.PutFormRequest(request_id=rid(), key="std", title="报备",
                                   fields=[rpb.FormField(key="note", label="备注", type="text")]), timeout=10)
    approval = start_service("approval", registry_addr=registry.addr, db_url=make_db_url("approval"))
    appr = apb_grpc.ApprovalServiceStub(approval.channel)
    reporting_url = make_db_url("reporting")
    reporting = start_service("reporting", db_url=reporting_url)

    # A create refused (unknown form) writes no event; a created project writes project.created.
    bad = rpb.CreateProjectRequest(request_id=rid(), owner_id="rep", form_key="nope", name="项目",
                                   customer=rpb.Customer(name="华东制造有限公司"), amount="1000")
    refused(reg.CreateProject, bad, grpc.StatusCode.INVALID_ARGUMENT)
    assert claimed(reg, rpb) == []
    project = reg.CreateProject(rpb.CreateProjectRequest(
        request_id=rid(), owner_id="rep", form_key="std", name="智慧园区",
        customer=rpb.Customer(name="华东制造有限公司"), amount="1000"), timeout=10).project
    wid = f"project-{project.id}"
    [created] = claimed(reg, rpb)
    assert (created.event_id, created.project_id, created.actor_id) == (f"{wid}:project.created:0", project.id, "rep")
    assert (created.project_created.status, created.project_created.name) == ("draft", "智慧园区")

    # A refused submit (not the owner) writes none; a submit writes project.submitted with the
    # id the workflow names, once even when the request is retried.
    submit = rpb.SubmitProjectRequest(request_id=rid(), project_id=project.id, actor_id="rep",
                                      report_event_id=f"{wid}:project.submitted:1")
    stranger = rpb.SubmitProjectRequest()
    stranger.CopyFrom(submit)
    stranger.request_id, stranger.actor_id = rid(), "mgr"
    refused(reg.SubmitProject, stranger, grpc.StatusCode.PERMISSION_DENIED)
    assert len(claimed(reg, rpb)) == 1
    reg.SubmitProject(submit, timeout=10)
    reg.SubmitProject(submit, timeout=10)
    assert [e.event_id for e in claimed(reg, rpb)] == [f"{wid}:project.created:0", f"{wid}:project.submitted:1"]

    # Approval: the opening and the decision, each in its transaction; a refused decision none.
    step = apb.PolicyStep(name="经理", approvers=apb.Approvers(type="role", role="boss"))
    appr.PutPolicy(apb.PutPolicyRequest(request_id=rid(), key="std", form_key="std", steps=[step]), timeout=10)
    facts = apb.ProjectFacts(project_id=project.id, form_key="std", name="智慧园区", amount="1000")
    plan = appr.PlanChain(apb.PlanChainRequest(request_id=rid(), project=facts, submitter_id="rep"), timeout=10)
    inst = plan.instance_id
    opened = appr.OpenStep(apb.OpenStepRequest(request_id=rid(), instance_id=inst, step_index=0, report_scope=wid,
                                               report_key="1"), timeout=10)
    [task] = opened.tasks
    decide = apb.RecordDecisionRequest(request_id=rid(), task_id=task.id, actor_id="rep", action="approve",
                                       channel="link", report_scope=wid, report_key=f"{task.id}:mgr:approve::")
    refused(appr.RecordDecision, decide, grpc.StatusCode.PERMISSION_DENIED)
    decide.request_id, decide.actor_id = rid(), "mgr"
    appr.RecordDecision(decide, timeout=10)
    # Without report_scope (an older workflow history that reports itself) nothing is published.
    opened_again = apb.OpenStepRequest(request_id=rid(), instance_id=inst, step_index=0)
    appr.OpenStep(opened_again, timeout=10)
    step_opened, decided = claimed(appr, apb)
    assert step_opened.event_id == f"{wid}:approval.step_opened:{inst}:0:1"
    so = step_opened.approval_step_opened
    assert (so.step, list(so.approvers)) == ("经理", ["mgr"])
    assert decided.event_id == f"{wid}:approval.decided:{inst}:0:{task.id}:mgr:approve::"
    d = decided.approval_decided
    assert (d.user_id, d.action, d.channel, d.step, decided.actor_id) == ("mgr", "approve", "link", "经理", "mgr")

    # The project's end; a status with no reporting event and an id is refused naming the field,
    # and its change rolls back with it.
    reg.SetProjectStatus(rpb.SetProjectStatusRequest(
        request_id=rid(), project_id=project.id, status=S.PROJECT_STATUS_ACTIVE, actor_id="mgr", event="approved",
        report_event_id=f"{wid}:project.approved:1"), timeout=10)
    closing = rpb.SetProjectStatusRequest(request_id=rid(), project_id=project.id, status=S.PROJECT_STATUS_CLOSED,
                                          actor_id="mgr", event="closed", report_event_id=f"{wid}:project.closed:1")
    failure = refused(reg.SetProjectStatus, closing, grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["report_event_id"]
    got = reg.GetProject(rpb.GetProjectRequest(project_id=project.id), timeout=10).project
    assert got.status == S.PROJECT_STATUS_ACTIVE
    registry_events = claimed(reg, rpb)
    assert [e.WhichOneof("kind") for e in registry_events] == ["project_created", "project_submitted",
                                                               "project_approved"]

    # A relay that shipped the registry's rows and crashed before acknowledging them …
    rep = pb_grpc.ReportingServiceStub(reporting.channel)
    first = rep.IngestEvents(pb.IngestEventsRequest(events=registry_events), timeout=10)
    assert (first.applied, first.duplicates) == (3, 0)
    # … ships them again with approval's: reporting applies each event once; all acknowledged.
    assert relay_once(registry, approval, reporting) is False
    assert claimed(reg, rpb) == [] and claimed(appr, apb) == []
    assert relay_once(registry, approval, reporting) is False
    logged = table(reporting_url, "SELECT event_id FROM event_log ORDER BY event_id")
    assert sorted(e for (e,) in logged) == sorted(
        [e.event_id for e in registry_events] + [step_opened.event_id, decided.event_id])

    # The same events in the order the workflow sent them give the same projections.
    in_order_url = make_db_url("reporting")
    in_order = pb_grpc.ReportingServiceStub(start_service("reporting", db_url=in_order_url).channel)
    for e in [*registry_events[:2], step_opened, decided, registry_events[2]]:
        assert in_order.IngestEvent(pb.IngestEventRequest(event=e), timeout=10).applied
    for sql in (PROJECT, STEPS, DECISIONS):
        assert table(reporting_url, sql) == table(in_order_url, sql), sql
    [(status, *_)] = [r[1:] for r in table(reporting_url, PROJECT)]
    assert status == "active"
    [(*_, closed_at, outcome)] = table(reporting_url, STEPS)
    assert closed_at is not None and outcome == "approved"


def test_ingest_events_is_idempotent_and_refuses_a_bad_batch_whole(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    from datetime import UTC, datetime

    from baobei import reporting_events

    rep = pb_grpc.ReportingServiceStub(start_service("reporting", db_url=make_db_url("reporting")).channel)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def created(n: int) -> pb.Event:
        return reporting_events.build(event_id=f"project-p{n}:project.created:0", event_type="project.created",
                                      project_id=f"p{n}", at=at, actor_id="rep",
                                      facts=pb.ProjectFacts(code=f"BB-{n}", name="项目", status="draft", amount="1"))

    bad = created(2)
    bad.event_id = ""
    failure = refused(rep.IngestEvents, pb.IngestEventsRequest(events=[created(1), bad]),
                      grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["events[1].event_id"]
    # Nothing of the refused batch was applied; a batch applies each event id once.
    resp = rep.IngestEvents(pb.IngestEventsRequest(events=[created(1), created(2), created(1)]), timeout=10)
    assert (resp.applied, resp.duplicates) == (2, 1)
    again = rep.IngestEvents(pb.IngestEventsRequest(events=[created(1), created(2)]), timeout=10)
    assert (again.applied, again.duplicates) == (0, 2)
    assert rep.IngestEvent(pb.IngestEventRequest(event=created(2)), timeout=10).applied is False


def test_imported_projects_publish_their_creation_with_the_rows(start_service: StartService, tmp_path: Any) -> None:
    from tests.service.test_registry_import_jobs import seeded, sheet

    svc = start_service("registry", attachments_dir=tmp_path)
    stub = seeded(svc.channel)

    def imp(data: bytes) -> rpb.ImportProjectsResponse:
        return stub.ImportProjects(rpb.ImportProjectsRequest(request_id=rid(), form_key="standard", actor_id="sales1",
                                                             data=data, filename="rows.csv"), timeout=60)

    # All or nothing: a sheet with a bad row stores no project and publishes no event.
    with pytest.raises(grpc.RpcError):
        imp(sheet(3, tag="x", bad_row=3))
    assert claimed(stub, rpb) == []
    done = imp(sheet(3, tag="x"))
    events = claimed(stub, rpb)
    assert [e.event_id for e in events] == [f"project-{p}:project.created:0" for p in done.project_ids]
    assert [(e.project_created.name, e.project_created.owner_id, e.project_created.amount) for e in events] == [
        ("项目x0", "sales1", "100.00"), ("项目x1", "sales1", "101.00"), ("项目x2", "sales1", "102.00")]
    # Imported rows are registered past approval: active, as their lifecycle reported them before.
    assert {e.project_created.status for e in events} == {"active"}


def test_timer_and_reassign_publish_system_and_admin_decisions(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    registry = start_service("registry", db_url=make_db_url("registry"))
    rpb_grpc.RegistryServiceStub(registry.channel).UpsertOrg(rpb.UpsertOrgRequest(
        request_id=rid(), departments=[rpb.Department(id="hq", name="总部")],
        users=[rpb.User(id=u, name=u, department_id="hq") for u in ("rep", "lead", "ceo")]), timeout=10)
    appr = apb_grpc.ApprovalServiceStub(
        start_service("approval", registry_addr=registry.addr, db_url=make_db_url("approval")).channel)

    def opened(project_id: str, step: apb.PolicyStep) -> tuple[str, apb.OpenStepResponse]:
        appr.PutPolicy(apb.PutPolicyRequest(request_id=rid(), key=project_id, form_key=project_id, steps=[step]),
                       timeout=10)
        facts = apb.ProjectFacts(project_id=project_id, form_key=project_id, name="项目", amount="1")
        inst = appr.PlanChain(apb.PlanChainRequest(request_id=rid(), project=facts, submitter_id="rep"),
                              timeout=10).instance_id
        return inst, appr.OpenStep(apb.OpenStepRequest(request_id=rid(), instance_id=inst, step_index=0), timeout=10)

    # The SLA's action (approve) is a system decision "timeout_approve"; a reminder is none.
    sla = apb.PolicyStep(name="经理", approvers=apb.Approvers(type="user", user_id="lead"), sla="8wh",
                         on_timeout="approve", remind_at=0.5)
    inst, step = opened("p-timer", sla)
    actions = {t.index: t.action for t in step.timers}
    for index in sorted(actions):
        appr.FireTimer(apb.FireTimerRequest(request_id=rid(), instance_id=inst, step_index=0, timer_index=index,
                                            report_scope="project-p-timer", report_key=f"timer:1:{index}"), timeout=10)
    last = max(actions)
    [timeout] = claimed(appr, apb)
    assert timeout.event_id == f"project-p-timer:approval.decided:{inst}:0:timer:1:{last}"
    d = timeout.approval_decided
    assert (d.user_id, d.action, d.channel, timeout.project_id) == ("system", "timeout_approve", "system", "p-timer")
    seqs = [e.seq for e in appr.ClaimEvents(apb.ClaimEventsRequest(), timeout=10).events]
    assert appr.AckEvents(apb.AckEventsRequest(seqs=seqs), timeout=10).acknowledged == 1
    assert claimed(appr, apb) == []

    # An admin's reassignment.
    inst, _ = opened("p-move", apb.PolicyStep(name="经理", approvers=apb.Approvers(type="user", user_id="lead")))
    appr.ReassignStep(apb.ReassignStepRequest(request_id=rid(), instance_id=inst, step_index=0, to_user_id="ceo",
                                              actor_id="admin", from_user_id="lead", report_scope="project-p-move",
                                              report_key="reassign:k1"), timeout=10)
    [moved] = claimed(appr, apb)
    assert moved.event_id == f"project-p-move:approval.decided:{inst}:0:reassign:k1"
    assert (moved.approval_decided.user_id, moved.approval_decided.action, moved.approval_decided.channel) == (
        "admin", "reassign", "api")


def test_an_event_reporting_refuses_does_not_block_the_outbox(
    start_service: StartService, make_db_url: Callable[[str], str],
) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from baobei import reporting_events
    from baobei.core.event_outbox import publish
    from services.registry.models import event_outbox

    registry_url, reporting_url = make_db_url("registry"), make_db_url("reporting")
    registry = start_service("registry", db_url=registry_url)
    approval = start_service("approval", registry_addr=registry.addr, db_url=make_db_url("approval"))
    reporting = start_service("reporting", db_url=reporting_url)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    good = [reporting_events.build(event_id=f"project-q{n}:project.created:0", event_type="project.created",
                                   project_id=f"q{n}", at=at, facts=pb.ProjectFacts(name="项目", status="draft"))
            for n in (1, 2)]
    bad = pb.Event()
    bad.CopyFrom(good[0])
    bad.event_id = ""  # reporting refuses it: no retry could help
    engine = make_engine(registry_url)
    try:
        with Session(engine) as session, session.begin():
            for e in (good[0], bad, good[1]):
                publish(session, event_outbox, e)
    finally:
        engine.dispose()
    relay_once(registry, approval, reporting)
    assert claimed(rpb_grpc.RegistryServiceStub(registry.channel), rpb) == []
    assert [e for (e,) in table(reporting_url, "SELECT event_id FROM event_log ORDER BY event_id")] == [
        "project-q1:project.created:0", "project-q2:project.created:0"]
