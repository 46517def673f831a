"""The Temporal worker: ProjectLifecycle plus the activities of the four services it calls.

``run_worker(settings)`` is the process entry (``python -m workflows``); ``build_worker`` is what
tests use with their own client, task queue and stubs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass

import grpc
import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core.grpc_client import aio_channel
from baobei.core.settings import Settings
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from workflows import search_attributes
from workflows.activities import ApprovalActivities, NotifyActivities, RegistryActivities, ReportingActivities
from workflows.lifecycle import ProjectLifecycle

log = structlog.get_logger(__name__)

WORKFLOWS = [ProjectLifecycle]


@dataclass
class Stubs:
    """``grpc.aio`` stubs of the services the activities call."""

    registry: RegistryServiceStub
    approval: ApprovalServiceStub
    notify: NotifyServiceStub
    reporting: ReportingServiceStub


def open_stubs(settings: Settings) -> tuple[Stubs, list[grpc.aio.Channel]]:
    """Stubs on ``grpc.aio`` channels to ``settings.addr(<service>)`` (call inside the event loop)."""
    channels = {svc: aio_channel(settings.addr(svc)) for svc in ("registry", "approval", "notify", "reporting")}
    stubs = Stubs(
        registry=RegistryServiceStub(channels["registry"]),
        approval=ApprovalServiceStub(channels["approval"]),
        notify=NotifyServiceStub(channels["notify"]),
        reporting=ReportingServiceStub(channels["reporting"]),
    )
    return stubs, list(channels.values())


def build_worker(client: Client, settings: Settings, *, stubs: Stubs, task_queue: str | None = None) -> Worker:
    timeout = settings.rpc_timeout
    registry = RegistryActivities(stubs.registry, timeout=timeout)
    approval = ApprovalActivities(stubs.approval, timeout=timeout)
    notify = NotifyActivities(stubs.notify, timeout=timeout)
    reporting = ReportingActivities(stubs.reporting, timeout=timeout)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        activities=[
            registry.get_project,
            registry.submit_project,
            registry.set_project_status,
            approval.plan_chain,
            approval.open_step,
            approval.record_decision,
            notify.send,
            reporting.ingest_event,
        ],
    )


_INDEXED = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "DOUBLE": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def ensure_search_attributes(
    client: Client, namespace: str, keys: Sequence[SearchAttributeKey] = search_attributes.ALL
) -> None:
    """Register the custom search attributes the workflow upserts, when missing."""
    try:
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
        existing = set(listed.custom_attributes)
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:  # the time-skipping test server cannot list
            raise
        existing = set()
    missing = {k.name: _INDEXED[k.indexed_value_type.name] for k in keys if k.name not in existing}
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
        log.info("worker.search_attributes_added", names=sorted(missing))


async def run_worker(settings: Settings, *, handle_signals: bool = True) -> None:
    """Connect, register, and poll ``settings.task_queue`` until cancelled or SIGTERM/SIGINT
    (``handle_signals=False`` when embedded, e.g. by ``baobei dev`` or a test: cancel the task)."""
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    try:
        await ensure_search_attributes(client, settings.temporal_namespace)
    except Exception as err:  # e.g. no operator permission in production: attributes set up by ops
        log.warning("worker.search_attributes_unchecked", error=str(err))
    stubs, channels = open_stubs(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
    for sig in signals:
        # Not available off the main thread or on some platforms: then cancellation stops us.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    worker = build_worker(client, settings, stubs=stubs)
    log.info("worker.started", task_queue=settings.task_queue, temporal=settings.temporal_address)
    try:
        async with worker:
            await stop.wait()
    finally:
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        for ch in channels:
            await ch.close()
        log.info("worker.stopped")
