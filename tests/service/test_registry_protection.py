"""Protection periods (保护期) and the waitlist (候补) in the registry over gRPC: exactly one holder
under concurrent submissions, an ordered queue, promotion on lapse and on release, follow-ups
extending up to the cap, idempotent timer calls; an approval starting the protection in the same
call (SetProjectStatus with start_protection) exactly as StartProtection after it; plus draft
edits and Excel import over gRPC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2, timestamp_pb2

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from baobei.reporting.v1 import reporting_service_pb2 as reporting_pb
from tests.conftest import StartService
from tests.service.test_registry_service import ORG, fails, struct

S = pb.ProjectStatus
FORM = pb.PutFormRequest(
    request_id="pform", key="protected", title="保护期表单",
    fields=[pb.FormField(key="note", label="备注", type="text")],
    settings=pb.FormSettings(protection_days=30, protection_extend_days=20, protection_max_days=60,
                             protection_remind_days=5),
)


@pytest.fixture()
def stub(start_service: StartService, tmp_path: Any) -> pb_grpc.RegistryServiceStub:
    s = pb_grpc.RegistryServiceStub(start_service("registry", attachments_dir=tmp_path).channel)
    s.UpsertOrg(ORG, timeout=10)
    s.PutForm(FORM, timeout=10)
    return s


def make(stub: pb_grpc.RegistryServiceStub, n: int, customer: str = "星辰科技有限公司", owner: str = "sales1") -> str:
    req = pb.CreateProjectRequest(request_id=f"c{n}", owner_id=owner, form_key="protected", name=f"项目{n}",
                                  customer=pb.Customer(name=customer), amount="10")
    return stub.CreateProject(req, timeout=10).project.id


def submit(stub: pb_grpc.RegistryServiceStub, pid: str) -> pb.Project:
    return stub.SubmitProject(pb.SubmitProjectRequest(request_id=f"s-{pid}", project_id=pid, actor_id="sales1",
                                                      actor_is_admin=True), timeout=10).project


def status(
    stub: pb_grpc.RegistryServiceStub, pid: str, st: pb.ProjectStatus, rid: str = ""
) -> pb.SetProjectStatusResponse:
    return stub.SetProjectStatus(pb.SetProjectStatusRequest(request_id=rid or f"st-{pid}-{st}", project_id=pid,
                                                            status=st, actor_id="boss"), timeout=10)


def ts(dt: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt)
    return t


def get(stub: pb_grpc.RegistryServiceStub, pid: str) -> pb.Project:
    return stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project


def test_concurrent_submissions_one_holder_ordered_queue(stub: pb_grpc.RegistryServiceStub) -> None:
    ids = [make(stub, i) for i in range(8)]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def go(pid: str) -> None:
        try:
            barrier.wait()
            submit(stub, pid)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=go, args=(pid,)) for pid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    states = {pid: get(stub, pid).protection for pid in ids}
    holders = [pid for pid, p in states.items() if p.state == "holder"]
    assert len(holders) == 1
    positions = sorted(p.position for p in states.values() if p.state == "waitlisted")
    assert positions == list(range(1, 8))
    assert all(p.holder_project_id == holders[0] for p in states.values())


def test_protection_lapse_promotes_in_order(stub: pb_grpc.RegistryServiceStub) -> None:
    a, b, c = (make(stub, i, customer="杭州星河科技有限公司") for i in (10, 11, 12))
    for pid in (a, b, c):
        submit(stub, pid)
    status(stub, a, S.PROJECT_STATUS_ACTIVE)
    status(stub, c, S.PROJECT_STATUS_ACTIVE)  # approved while waiting: still behind b
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    started = stub.StartProtection(pb.StartProtectionRequest(request_id="sp-a", project_id=a, at=ts(t0)), timeout=10)
    assert started.protection.state == "protected"
    assert started.protection.until.ToDatetime(tzinfo=UTC) == t0 + timedelta(days=30)
    assert started.remind_at.ToDatetime(tzinfo=UTC) == t0 + timedelta(days=25)
    waiting = stub.StartProtection(pb.StartProtectionRequest(request_id="sp-c", project_id=c, at=ts(t0)), timeout=10)
    assert (waiting.protection.state, waiting.protection.position) == ("waitlisted", 2)
    # Too early: nothing happens.
    early = stub.ExpireProtection(pb.ExpireProtectionRequest(request_id="ex-1", project_id=a,
                                                             at=ts(t0 + timedelta(days=29))), timeout=10)
    assert early.protection.state == "protected" and not early.promoted
    lapsed = stub.ExpireProtection(pb.ExpireProtectionRequest(request_id="ex-2", project_id=a,
                                                              at=ts(t0 + timedelta(days=30))), timeout=10)
    assert lapsed.protection.state == "lapsed"
    assert [(p.project_id, p.status) for p in lapsed.promoted] == [(b, S.PROJECT_STATUS_PENDING_APPROVAL)]
    # Repeating the timer call (same request id) changes nothing.
    assert stub.ExpireProtection(pb.ExpireProtectionRequest(request_id="ex-2", project_id=a,
                                                            at=ts(t0 + timedelta(days=30))), timeout=10) == lapsed
    assert get(stub, b).protection.state == "holder"
    assert get(stub, c).protection.position == 1
    # The new holder is rejected: c (already active) takes over and is protected at once.
    resp = status(stub, b, S.PROJECT_STATUS_REJECTED)
    assert [(p.project_id, p.status) for p in resp.promoted] == [(c, S.PROJECT_STATUS_ACTIVE)]
    pc = get(stub, c)
    assert pc.protection.state == "protected" and pc.protection.holder_project_id == c
    assert [h.event for h in get(stub, a).history][-1] == "protection.lapsed"
    assert "protection.promoted" in [h.event for h in pc.history]


def test_follow_up_extends_up_to_cap(stub: pb_grpc.RegistryServiceStub) -> None:
    a = make(stub, 20, customer="星云科技")
    submit(stub, a)
    status(stub, a, S.PROJECT_STATUS_ACTIVE)
    now = datetime.now(UTC)
    stub.StartProtection(pb.StartProtectionRequest(request_id="sp", project_id=a, at=ts(now)), timeout=10)
    until0 = get(stub, a).protection.until.ToDatetime(tzinfo=UTC)
    fails(stub.RecordFollowUp, pb.RecordFollowUpRequest(request_id="f0", project_id=a, actor_id="sales2", note="x"),
          grpc.StatusCode.PERMISSION_DENIED)
    p = stub.RecordFollowUp(pb.RecordFollowUpRequest(request_id="f1", project_id=a, actor_id="sales1",
                                                     note="拜访客户"), timeout=10).project
    # +20 days from now is before the 30-day end: unchanged; never earlier.
    assert p.protection.until.ToDatetime(tzinfo=UTC) == until0 and p.protection.follow_ups == 1
    # The cap (60 days from the start) bounds every extension.
    cap = p.protection.cap.ToDatetime(tzinfo=UTC)
    assert abs((cap - now) - timedelta(days=60)) < timedelta(seconds=5)


def test_block_policy_refuses_on_submit(stub: pb_grpc.RegistryServiceStub) -> None:
    stub.PutForm(pb.PutFormRequest(request_id="bf", key="blocky", title="拦截", fields=[FORM.fields[0]],
                                   settings=pb.FormSettings(conflict_policy="block")), timeout=10)
    mk = pb.CreateProjectRequest(owner_id="sales1", form_key="blocky", name="甲", amount="1",
                                 customer=pb.Customer(name="北辰科技有限公司"))
    first = stub.CreateProject(pb.CreateProjectRequest(request_id="b1", **{f.name: v for f, v in mk.ListFields()}),
                               timeout=10).project
    second = stub.CreateProject(pb.CreateProjectRequest(request_id="b2", **{f.name: v for f, v in mk.ListFields()}),
                                timeout=10).project  # the first is a draft: not live yet
    submit(stub, first.id)
    failure = fails(stub.SubmitProject, pb.SubmitProjectRequest(request_id="b3", project_id=second.id,
                                                                actor_id="sales1"), grpc.StatusCode.FAILED_PRECONDITION)
    assert failure.reason == "customer_conflict" and "撞单" in failure.message
    assert get(stub, second.id).status == S.PROJECT_STATUS_DRAFT


def test_update_project_grpc(stub: pb_grpc.RegistryServiceStub) -> None:
    pid = make(stub, 30, customer="编辑测试公司")
    changes = struct_pb2.Struct()
    changes.update({"name": "改名", "fields": {"note": "hi"}})
    p = stub.UpdateProject(pb.UpdateProjectRequest(request_id="u1", project_id=pid, actor_id="sales1",
                                                   expected_version=1, changes=changes), timeout=10).project
    assert (p.name, p.version, dict(p.fields)["note"]) == ("改名", 2, "hi")
    fails(stub.UpdateProject, pb.UpdateProjectRequest(request_id="u2", project_id=pid, actor_id="sales1",
                                                      expected_version=1, changes=changes),
          grpc.StatusCode.FAILED_PRECONDITION)
    submit(stub, pid)
    fails(stub.UpdateProject, pb.UpdateProjectRequest(request_id="u3", project_id=pid, actor_id="sales1",
                                                      expected_version=3, changes=struct({"name": "x"})),
          grpc.StatusCode.FAILED_PRECONDITION)


def approve(
    stub: pb_grpc.RegistryServiceStub, pid: str, *, protect: str = "", at: datetime | None = None,
    status_rid: str = "",
) -> pb.SetProjectStatusResponse:
    """The lifecycle's approval (report event id, comment); with ``protect``, StartProtection's
    request id, the protection started in the same call."""
    req = pb.SetProjectStatusRequest(request_id=status_rid or f"st-{pid}", project_id=pid,
                                     status=S.PROJECT_STATUS_ACTIVE, actor_id="boss", event="approved", comment="同意",
                                     report_event_id=f"ev-{pid}")
    if protect:
        req.start_protection.CopyFrom(pb.StartProtectionRequest(request_id=protect, at=ts(at or datetime.now(UTC))))
    return stub.SetProjectStatus(req, timeout=10)


def start(stub: pb_grpc.RegistryServiceStub, pid: str, rid: str, at: datetime) -> pb.ProtectionResponse:
    return stub.StartProtection(pb.StartProtectionRequest(request_id=rid, project_id=pid, at=ts(at)), timeout=10)


def outbox(stub: pb_grpc.RegistryServiceStub, pid: str) -> list[tuple[str, str]]:
    """The project's reporting events waiting in the outbox: (event id, kind)."""
    events = [reporting_pb.Event.FromString(e.event)
              for e in stub.ClaimEvents(pb.ClaimEventsRequest(limit=500), timeout=10).events]
    return [(e.event_id, str(e.WhichOneof("kind"))) for e in events if e.project_id == pid]


def approvals(stub: pb_grpc.RegistryServiceStub, pid: str) -> list[tuple[str, str]]:
    return [e for e in outbox(stub, pid) if e[1] == "project_approved"]


def trail(stub: pb_grpc.RegistryServiceStub, pid: str) -> list[str]:
    return [h.event for h in get(stub, pid).history]


def without_protection(resp: pb.SetProjectStatusResponse) -> pb.SetProjectStatusResponse:
    out = pb.SetProjectStatusResponse()
    out.CopyFrom(resp)
    out.ClearField("protection")
    return out


def test_approval_starts_protection_in_the_same_call_as_start_protection_after_it(
    stub: pb_grpc.RegistryServiceStub,
) -> None:
    t0 = datetime(2026, 4, 1, 9, tzinfo=UTC)
    # Two lines of two: a holder and a waitlisted registration each, approved the old way
    # (SetProjectStatus, then StartProtection) and in one call.
    old, old_wait = (make(stub, i, customer="同步旧式科技有限公司") for i in (40, 41))
    new, new_wait = (make(stub, i, customer="同步新式科技有限公司") for i in (42, 43))
    for pid in (old, old_wait, new, new_wait):
        submit(stub, pid)
    answers = {}
    for pid in (old, old_wait):
        changed = approve(stub, pid)
        answers[pid] = (changed, start(stub, pid, f"sp-{pid}", t0))
    for pid in (new, new_wait):
        both = approve(stub, pid, protect=f"sp-{pid}", at=t0)
        assert both.HasField("protection")
        answers[pid] = (without_protection(both), both.protection)

    for old_pid, new_pid in ((old, new), (old_wait, new_wait)):
        (o_status, o_prot), (n_status, n_prot) = answers[old_pid], answers[new_pid]
        # The status change answers as it did alone: the project before its protection started.
        assert n_status.project.status == o_status.project.status == S.PROJECT_STATUS_ACTIVE
        assert n_status.project.protection.state == o_status.project.protection.state
        # The protection as StartProtection answers it: state, until, reminder, place, holder.
        assert (n_prot.protection.state, n_prot.protection.until, n_prot.protection.since, n_prot.remind_at,
                n_prot.protection.position, n_prot.protection.cap) == (
            o_prot.protection.state, o_prot.protection.until, o_prot.protection.since, o_prot.remind_at,
            o_prot.protection.position, o_prot.protection.cap)
        assert n_prot.protection.holder_project_id == new  # the line's holder
        assert (n_prot.owner_id, n_prot.code, n_prot.name) == ("sales1", get(stub, new_pid).code,
                                                               get(stub, new_pid).name)
        # Same rows: the project as read, its history, the reporting events of the change.
        assert get(stub, new_pid).protection.state == get(stub, old_pid).protection.state
        assert trail(stub, new_pid) == trail(stub, old_pid)
        assert [k for _, k in outbox(stub, new_pid)] == [k for _, k in outbox(stub, old_pid)]
        assert approvals(stub, new_pid) == [(f"ev-{new_pid}", "project_approved")]
    assert answers[new][1].protection.state == "protected"
    assert answers[new][1].protection.until.ToDatetime(tzinfo=UTC) == t0 + timedelta(days=30)
    assert answers[new][1].remind_at.ToDatetime(tzinfo=UTC) == t0 + timedelta(days=25)
    assert (answers[new_wait][1].protection.state, answers[new_wait][1].protection.position) == ("waitlisted", 1)
    assert trail(stub, new).count("protection.started") == 1


def test_approval_with_protection_is_idempotent_on_either_request_id(stub: pb_grpc.RegistryServiceStub) -> None:
    t0, later = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 9, tzinfo=UTC)
    a, b, c = (make(stub, 50 + i, customer=f"幂等科技{i}有限公司") for i in range(3))
    for pid in (a, b, c):
        submit(stub, pid)

    # A retry of the same call: the same answer, one status change, one protection start, one event.
    first = approve(stub, a, protect=f"sp-{a}", at=t0)
    history, events = trail(stub, a), outbox(stub, a)
    assert approve(stub, a, protect=f"sp-{a}", at=later) == first
    assert trail(stub, a) == history and outbox(stub, a) == events
    assert approvals(stub, a) == [(f"ev-{a}", "project_approved")]
    assert history.count("approved") == history.count("protection.started") == 1
    # Each part answers a later call of its own RPC with that request id.
    assert start(stub, a, f"sp-{a}", later) == first.protection
    assert approve(stub, a) == without_protection(first)
    assert trail(stub, a) == history

    # A Finish begun by the older worker code: SetProjectStatus and StartProtection were called
    # (then the activity was retried by the new code): both stored answers, nothing changed.
    changed, started = approve(stub, b), start(stub, b, f"sp-{b}", t0)
    history = trail(stub, b)
    again = approve(stub, b, protect=f"sp-{b}", at=later)
    assert without_protection(again) == changed and again.protection == started
    assert again.protection.protection.until.ToDatetime(tzinfo=UTC) == t0 + timedelta(days=30)
    assert trail(stub, b) == history and approvals(stub, b) == [(f"ev-{b}", "project_approved")]

    # ...or only the status change was made before: its stored answer, and the protection starts now.
    changed = approve(stub, c)
    resumed = approve(stub, c, protect=f"sp-{c}", at=t0)
    assert without_protection(resumed) == changed
    assert resumed.protection.protection.state == "protected"
    assert trail(stub, c).count("approved") == trail(stub, c).count("protection.started") == 1
    assert approvals(stub, c) == [(f"ev-{c}", "project_approved")]


def test_start_protection_is_refused_without_a_change_to_active(stub: pb_grpc.RegistryServiceStub) -> None:
    pid = make(stub, 60, customer="拒绝科技有限公司")
    submit(stub, pid)
    before, events = get(stub, pid), outbox(stub, pid)

    def refused(status: pb.ProjectStatus, protect: pb.StartProtectionRequest) -> list[str]:
        req = pb.SetProjectStatusRequest(request_id=f"bad-{status}-{protect.request_id}", project_id=pid,
                                         status=status, actor_id="boss", event="x", report_event_id=f"ev-bad-{pid}",
                                         start_protection=protect)
        failure = fails(stub.SetProjectStatus, req, grpc.StatusCode.INVALID_ARGUMENT, locale="en")
        return [v.field for v in failure.violations]

    at = ts(datetime(2026, 6, 1, tzinfo=UTC))
    assert refused(S.PROJECT_STATUS_REJECTED, pb.StartProtectionRequest(request_id="sp-x", at=at)) == [
        "start_protection"]
    assert refused(S.PROJECT_STATUS_ACTIVE, pb.StartProtectionRequest(at=at)) == ["start_protection.request_id"]
    assert refused(S.PROJECT_STATUS_ACTIVE, pb.StartProtectionRequest(request_id="sp-y", project_id="other",
                                                                      at=at)) == ["start_protection.project_id"]
    # Nothing changed, nothing published, no answer stored under either request id.
    assert get(stub, pid) == before and outbox(stub, pid) == events
    ok = approve(stub, pid, protect="sp-x", status_rid=f"bad-{S.PROJECT_STATUS_REJECTED}-sp-x",
                 at=datetime(2026, 6, 1, tzinfo=UTC))
    assert ok.project.status == S.PROJECT_STATUS_ACTIVE and ok.protection.protection.state == "protected"
