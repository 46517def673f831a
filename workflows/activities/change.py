"""Activities on the registry's ChangeService (change requests)."""

from __future__ import annotations

from temporalio import activity

from baobei.registry.v1 import change_service_pb2 as pb
from baobei.registry.v1.change_service_pb2_grpc import ChangeServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.change import CHANGE_SETTLE, SettleChangeInput, SettleChangeResult


class ChangeActivities:
    def __init__(self, stub: ChangeServiceStub, *, timeout: float = 10.0) -> None:
        self._stub = stub
        self._timeout = timeout

    @activity.defn(name=CHANGE_SETTLE)
    async def settle(self, inp: SettleChangeInput) -> SettleChangeResult:
        req = pb.SettleChangeRequest(request_id=inp.request_id, change_id=inp.change_id, status=inp.status,
                                     actor_id=inp.actor_id, reason=inp.reason)
        resp = await call(self._stub.SettleChange, req, timeout=self._timeout)
        activity_logger(resp.change.project_id).info("change.settled", change_id=inp.change_id,
                                                     status=resp.change.status)
        return SettleChangeResult(change_id=resp.change.id, status=resp.change.status,
                                  applied_version=resp.change.applied_version)
