"""Delivery of early warnings and finance sync events, and the periodic re-check of
time-dependent conditions.

Request handlers never call other services. A warning is a row written in the same transaction as
the event that raised it (the outbox); this dispatcher, a background thread of the reporting
process, hands each unsent row to ``notify.Send`` with the request id ``reporting:warning:<key>``
and then marks it sent. notify is idempotent on request ids, so a crash between the send and the
mark re-sends the same request and delivers once. The thread stops with the gRPC server.

Finance sync works the same way: ingesting a new project.approved / project.closed /
cost.recorded event writes an ``event_forward`` row in the ingest transaction; the dispatcher
hands the pending rows, a batch at a time, to ``notify.PublishEvents`` in one call (each item a
``PublishEvent``, idempotent on event_id: one webhook delivery per matching subscription) and
marks sent those notify published, and those it refused for good (logged: no retry could help,
and they must not hold up the rows behind them); an item notify could not publish this time stays
for the next round. A failure of one outbox does not hold up the other."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import structlog
from sqlalchemy.engine import Engine

from baobei.core.grpc_client import REFUSED_CODES, channel
from baobei.notify.v1 import notify_service_pb2 as notify_pb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from services.reporting import store

log = structlog.get_logger(__name__)
KIND = "early_warning"


def request_id_of(key: str) -> str:
    return f"reporting:warning:{key}"


def dispatch_once(engine: Engine, send: Callable[[notify_pb.SendRequest], object], *, limit: int = 50) -> int:
    """Send the pending warnings; returns how many were handed over. Stops at the first failure
    (notify down): the rest waits for the next round."""
    sent = 0
    for w in store.pending_notifications(engine, limit=limit):
        if w.recipient_ids:
            send(
                notify_pb.SendRequest(
                    request_id=request_id_of(w.key),
                    recipient_ids=list(w.recipient_ids),
                    kind=KIND,
                    title=w.title,
                    body=w.body,
                    project_id=w.project_id,
                )
            )
        store.mark_notified(engine, key=w.key, at=datetime.now(UTC))
        log.info("warning.notified", key=w.key, project_id=w.project_id, recipients=list(w.recipient_ids))
        sent += 1
    return sent


def publish_request(row: store.ForwardRow) -> notify_pb.PublishEventRequest:
    req = notify_pb.PublishEventRequest(event_id=row.event_id, type=row.type, project_id=row.project_id)
    req.at.FromDatetime(row.at)
    req.data.update(row.payload)
    return req


def forward_once(
    engine: Engine, publish: Callable[[notify_pb.PublishEventsRequest], notify_pb.PublishEventsResponse], *,
    limit: int = 50,
) -> int:
    """Hand the pending finance sync events, oldest first, to notify.PublishEvents in one call;
    returns how many were marked sent (published, or refused for good). The call failing (notify
    down) leaves them all for the next round, an item notify could not publish this time itself."""
    rows = store.pending_forwards(engine, limit=limit)
    if not rows:
        return 0
    resp = publish(notify_pb.PublishEventsRequest(items=[publish_request(row) for row in rows]))
    done: list[str] = []
    for row, result in zip(rows, resp.results, strict=True):
        bound = log.bind(event_id=row.event_id, type=row.type, project_id=row.project_id)
        if not result.HasField("error"):
            bound.info("event.forwarded")
            done.append(row.event_id)
        elif result.error.code in REFUSED_CODES:
            bound.error("event.forward_refused", reason=result.error.reason, error=result.error.message,
                        fields=[v.field for v in result.error.violations])
            done.append(row.event_id)
        else:
            bound.warning("event.forward_failed", reason=result.error.reason, error=result.error.message)
    store.mark_forwarded(engine, event_ids=done, at=datetime.now(UTC))
    return len(done)


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        *,
        notify_addr: str,
        rpc_timeout: float = 10.0,
        poll_seconds: float = 0.5,
        sweep_seconds: float = 300.0,
    ) -> None:
        self.engine = engine
        self.notify_addr = notify_addr
        self.rpc_timeout = rpc_timeout
        self.poll_seconds = poll_seconds
        self.sweep_seconds = sweep_seconds

    def start(self, server: grpc.Server) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(server,), name="reporting-outbox", daemon=True)
        thread.start()
        return thread

    def _run(self, server: grpc.Server) -> None:
        ch = channel(self.notify_addr) if self.notify_addr else None
        stub = NotifyServiceStub(ch) if ch is not None else None
        next_sweep = time.monotonic() + self.sweep_seconds
        try:
            # wait_for_termination returns False once the server has stopped.
            while server.wait_for_termination(timeout=self.poll_seconds):
                try:
                    if time.monotonic() >= next_sweep:
                        next_sweep = time.monotonic() + self.sweep_seconds
                        store.evaluate_all(self.engine, now=datetime.now(UTC))
                    if stub is not None:
                        dispatch_once(self.engine, lambda req: stub.Send(req, timeout=self.rpc_timeout))
                except grpc.RpcError as err:
                    log.warning("warning.notify_failed", code=str(err.code()), details=err.details())
                except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
                    log.exception("warning.dispatch_failed")
                if stub is None:
                    continue
                try:
                    forward_once(self.engine, lambda req: stub.PublishEvents(req, timeout=self.rpc_timeout))
                except grpc.RpcError as err:
                    log.warning("event.forward_failed", code=str(err.code()), details=err.details())
                except Exception:  # noqa: BLE001 - keep the loop alive; the next round retries
                    log.exception("event.forward_failed")
        finally:
            if ch is not None:
                ch.close()
