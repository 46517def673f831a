"""Activities on the registry's AcceptanceService (acceptance requests)."""

from __future__ import annotations

from temporalio import activity

from baobei.registry.v1 import acceptance_service_pb2 as pb
from baobei.registry.v1.acceptance_service_pb2_grpc import AcceptanceServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.acceptance import ACCEPTANCE_SETTLE, SettleInput, SettleResult


class AcceptanceActivities:
    def __init__(self, stub: AcceptanceServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=ACCEPTANCE_SETTLE)
    async def settle(self, inp: SettleInput) -> SettleResult:
        req = pb.SettleRequestRequest(request_id=inp.request_id, acceptance_id=inp.acceptance_id, status=inp.status,
                                      actor_id=inp.actor_id, reason=inp.reason)
        resp = await call(self._stub.SettleRequest, req, timeout=self._timeout)
        activity_logger(resp.request.project_id).info("acceptance.settled", acceptance_id=inp.acceptance_id,
                                                      status=resp.request.status)
        return SettleResult(acceptance_id=resp.request.id, status=resp.request.status)
