"""ForecastInstance over real gRPC: learnt from the service's own decided steps, answered for a
pending approval only. (The numbers are the domain's, unit-tested with fixed dates in
tests/unit/test_approval_forecast.py; here the history is made now, so only its shape is checked.)"""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf import timestamp_pb2

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from tests.service import test_approval_service as base
from tests.service.test_approval_engine_service import act, pending, started
from tests.service.test_approval_service import open_step, step

registry_addr = base.registry_addr
stub = base.stub

Stub = pb_grpc.ApprovalServiceStub


def forecast(stub: Stub, project_id: str, at: datetime) -> pb.ForecastInstanceResponse:
    when = timestamp_pb2.Timestamp()
    when.FromDatetime(at)
    return stub.ForecastInstance(pb.ForecastInstanceRequest(project_id=project_id, at=when), timeout=10)


def test_forecast_of_a_pending_approval_from_earlier_decisions(stub: Stub) -> None:
    decided = []
    for _ in range(5):
        f, planned = started(stub, "fc-one", step("经理", user="lead"))
        act(stub, pending(open_step(stub, planned.instance_id, 0))[0], "approve")
        decided.append(f.project_id)
    f, planned = started(stub, "fc-one", step("经理", user="lead"))
    pending(open_step(stub, planned.instance_id, 0))
    at = datetime.now(UTC)
    out = forecast(stub, f.project_id, at)
    assert out.available
    [basis] = out.basis
    assert basis.step == "经理" and basis.level in ("approvers", "overdue") and basis.samples >= 1
    low, mid, high = (t.ToDatetime(tzinfo=UTC) for t in (out.low_at, out.expected_at, out.high_at))
    assert low <= mid <= high and mid >= at.replace(microsecond=0)
    # Decided approvals and unknown projects have nothing to forecast.
    assert not forecast(stub, decided[0], at).available
    assert not forecast(stub, "no-such-project", at).available
