"""The company calendar read from the approval service over gRPC (which stores the overrides):
execution rules count working time on the same calendar as approval SLAs."""

from __future__ import annotations

from datetime import date

import grpc
import structlog

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.approval.v1 import approval_service_pb2_grpc as pb_grpc
from baobei.core.grpc_client import channel, metadata
from baobei.workcalendar import STATUTORY, Override, WorkingCalendar

log = structlog.get_logger(__name__)


class CalendarUnavailable(Exception):
    """The approval service could not be reached (callers should retry)."""


class CalendarSource:
    """The statutory calendar alone when no approval address is configured (a tasks service run
    on its own, as in its service tests); else the company calendar, read on each call so an
    administrator's change applies to the next evaluation. ``current`` is the provider the rule
    evaluation calls, only when it has working time to count (``rules.evaluate``)."""

    def __init__(self, addr: str = "", *, timeout: float = 10.0) -> None:
        self._addr = addr
        self._channel = channel(addr) if addr else None
        self._stub = pb_grpc.ApprovalServiceStub(self._channel) if self._channel else None
        self._timeout = timeout

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()

    def current(self) -> WorkingCalendar:
        if self._stub is None:
            return STATUTORY
        try:
            resp = self._stub.GetCalendar(pb.GetCalendarRequest(), timeout=self._timeout, metadata=metadata())
        except grpc.RpcError as err:
            code = err.code() if hasattr(err, "code") else None
            log.warning("tasks.calendar_failed", addr=self._addr, code=str(code))
            raise CalendarUnavailable(f"approval GetCalendar failed: {code}") from err
        return WorkingCalendar(
            Override(day=date.fromisoformat(o.date), kind=o.kind, name=o.name) for o in resp.overrides
        )
