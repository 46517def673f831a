"""Protection periods (保护期) and the waitlist (候补) in the registry over gRPC: exactly one holder
under concurrent submissions, an ordered queue, promotion on lapse and on release, follow-ups
extending up to the cap, idempotent timer calls; plus draft edits and Excel import over gRPC."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2, timestamp_pb2

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
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
