"""The Temporal workers. Lifecycle (``settings.task_queue``): ProjectLifecycle, the execution and
protection workflows and the integration workflows (CrmOpportunityLost, OrgHandover), plus the
activities of the services they call and the lifecycle operations (Temporal client). Delivery
(``settings.delivery_task_queue``, see :mod:`workflows.delivery_worker`): NotificationDelivery,
its notify activities and the outbox dispatcher.

``run_worker(settings, role=…)`` is the process entry (``python -m workflows --role …``);
``build_worker`` is what tests use with their own client, task queue and stubs.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core import telemetry
from baobei.core.grpc_client import aio_channel
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.acceptance_service_pb2_grpc import AcceptanceServiceStub
from baobei.registry.v1.audit_service_pb2_grpc import AuditServiceStub
from baobei.registry.v1.change_service_pb2_grpc import ChangeServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from baobei.tasks.v1.tasks_service_pb2_grpc import TasksServiceStub
from workflows.acceptance import ProjectAcceptance
from workflows.activities import ApprovalActivities, NotifyActivities, RegistryActivities, ReportingActivities
from workflows.activities.acceptance import AcceptanceActivities
from workflows.activities.audit import AuditActivities
from workflows.activities.change import ChangeActivities
from workflows.activities.finish import FinishActivities
from workflows.activities.lifecycle_ops import LifecycleOps
from workflows.activities.org import OrgActivities
from workflows.activities.tasks import ProtectionInfoActivities, RecipientActivities, TasksActivities
from workflows.activities.webhooks import WebhookActivities
from workflows.audit_retention import AuditRetention
from workflows.change import ProjectChange
from workflows.closure import ProjectClosure
from workflows.contracts import search_attributes
from workflows.contracts.audit_retention import (
    AUDIT_RETENTION_WORKFLOW_ID,
    AUDIT_RETENTION_WORKFLOW_TYPE,
    RetentionInput,
)
from workflows.contracts.data_converter import DATA_CONVERTER
from workflows.crm import CrmOpportunityLost
from workflows.delivery_worker import (
    build_delivery_worker,
    build_dispatcher,
    build_event_relay,
    build_notice_relay,
    build_task_closing_relay,
)
from workflows.execution import ProjectExecution
from workflows.handover import OrgHandover
from workflows.lifecycle import ProjectLifecycle
from workflows.protection import ProjectProtection
from workflows.sandbox import workflow_runner
from workflows.worker_metrics import worker_runtime

log = structlog.get_logger(__name__)

# Workflow instances kept in memory between tasks (the SDK's default is 1000): the default of
# ``settings.worker_max_cached_workflows``. An evicted one is rebuilt by replaying its history on
# its next task (a decision, an SLA timer), so RSS stays flat however many projects wait
# (bench/soak.py: ~0.45 MiB per cached lifecycle instance).
MAX_CACHED_WORKFLOWS = Settings.model_fields["worker_max_cached_workflows"].default


WORKFLOWS = [ProjectLifecycle, ProjectExecution, ProjectProtection, CrmOpportunityLost,
             OrgHandover, ProjectClosure, AuditRetention, ProjectAcceptance, ProjectChange]
# lifecycle: WORKFLOWS on settings.task_queue; delivery: notification delivery on its own queue.
ROLES = ("all", "lifecycle", "delivery")


@dataclass
class Stubs:
    """``grpc.aio`` stubs of the services the activities call."""

    registry: RegistryServiceStub
    approval: ApprovalServiceStub
    notify: NotifyServiceStub
    reporting: ReportingServiceStub
    # Optional so callers that predate the execution workflow keep working (its activities are then absent).
    tasks: TasksServiceStub | None = None
    # The registry's AuditService (retention); optional for the same reason.
    audit: AuditServiceStub | None = None
    # The registry's AcceptanceService (ProjectAcceptance settles its requests); optional likewise.
    acceptance: AcceptanceServiceStub | None = None
    # The registry's ChangeService (ProjectChange settles and applies change requests); optional likewise.
    change: ChangeServiceStub | None = None


def open_stubs(settings: Settings) -> tuple[Stubs, list[grpc.aio.Channel]]:
    """Stubs on ``grpc.aio`` channels to ``settings.addr(<service>)`` (call inside the event loop)."""
    tls = GrpcTls.from_settings(settings)
    names = ("registry", "approval", "notify", "reporting", "tasks")
    channels = {svc: aio_channel(settings.addr(svc), tls=tls) for svc in names}
    stubs = Stubs(
        registry=RegistryServiceStub(channels["registry"]),
        approval=ApprovalServiceStub(channels["approval"]),
        notify=NotifyServiceStub(channels["notify"]),
        reporting=ReportingServiceStub(channels["reporting"]),
        tasks=TasksServiceStub(channels["tasks"]),
        audit=AuditServiceStub(channels["registry"]),
        acceptance=AcceptanceServiceStub(channels["registry"]),
        change=ChangeServiceStub(channels["registry"]),
    )
    return stubs, list(channels.values())


def build_worker(client: Client, settings: Settings, *, stubs: Stubs, task_queue: str | None = None) -> Worker:
    timeout = settings.rpc_timeout
    registry = RegistryActivities(
        stubs.registry, timeout=timeout, temporal=client, task_queue=task_queue or settings.task_queue
    )
    approval = ApprovalActivities(stubs.approval, timeout=timeout)
    notify = NotifyActivities(stubs.notify, timeout=timeout, registry=stubs.registry)
    finish = FinishActivities(registry, notify)
    org = OrgActivities(stubs.registry, stubs.approval, timeout=timeout)
    lifecycle_ops = LifecycleOps(client)
    reporting = ReportingActivities(stubs.reporting, timeout=timeout)
    execution: list[Any] = [
        RecipientActivities(stubs.registry, timeout=timeout).resolve,
        ProtectionInfoActivities(stubs.registry, timeout=timeout).protection_info,
    ]
    if stubs.tasks is not None:
        tasks = TasksActivities(stubs.tasks, timeout=timeout)
        execution += [tasks.apply_template, tasks.start_plan, tasks.save_baseline, tasks.evaluate_rules,
                      tasks.record_fire]
        hooks = WebhookActivities(stubs.tasks, stubs.notify, timeout=timeout)
        execution.append(hooks.deliver)
    if stubs.acceptance is not None:
        execution.append(AcceptanceActivities(stubs.acceptance, timeout=timeout).settle)
    if stubs.change is not None:
        execution.append(ChangeActivities(stubs.change, timeout=timeout).settle)
    if stubs.audit is not None:
        execution.append(AuditActivities(stubs.audit, retention_days=settings.audit_retention_days,
                                         timeout=timeout).purge)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=WORKFLOWS,
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=settings.worker_max_cached_workflows,
        activities=[
            registry.get_project,
            registry.submit_project,
            registry.set_project_status,
            registry.start_protection,
            registry.start_delivery,
            finish.finish,
            registry.expire_protection,
            approval.plan_chain,
            approval.open_step,
            approval.record_decision,
            approval.fire_timer,
            approval.resume,
            approval.cancel,
            approval.reassign,
            approval.record_action,
            notify.send,
            org.get_manager_chain,
            org.list_todos,
            org.hand_over_projects,
            lifecycle_ops.withdraw,
            lifecycle_ops.decide,
            lifecycle_ops.stop_execution,
            reporting.ingest_event,
            reporting.ingest_events,
            *execution,
        ],
    )


_INDEXED = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "KEYWORD_LIST": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    "DOUBLE": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
}


async def ensure_search_attributes(
    client: Client, namespace: str, keys: Sequence[SearchAttributeKey[Any]] = search_attributes.ALL
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


async def start_audit_retention(client: Client, settings: Settings) -> None:
    """The daily audit retention workflow, started once (a running one is kept; a finished or
    failed one is started again)."""
    try:
        await client.start_workflow(
            AUDIT_RETENTION_WORKFLOW_TYPE, RetentionInput(), id=AUDIT_RETENTION_WORKFLOW_ID,
            task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
    except Exception as err:  # e.g. Temporal not ready: the next worker start tries again
        log.warning("worker.audit_retention_not_started", error=str(err))


async def run_worker(settings: Settings, *, role: str = "all", handle_signals: bool = True) -> None:
    """Connect, register, and poll until cancelled or SIGTERM/SIGINT (``handle_signals=False`` when
    embedded, e.g. by a test: cancel the task). ``role``: ``lifecycle`` polls ``settings.task_queue``,
    ``delivery`` polls ``settings.delivery_task_queue`` and runs the outbox dispatcher, ``all`` both
    in one process."""
    if role not in ROLES:
        raise ValueError(f"unknown worker role {role!r} (one of {', '.join(ROLES)})")
    # The SDK's own metrics (task latency, slots, failures by activity type) join our /metrics page;
    # tracing on: the worker inherits the client's tracing interceptor (workflow, activity spans).
    runtime = worker_runtime(settings, role)
    client = await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace, runtime=runtime,
        interceptors=telemetry.temporal_interceptors(), data_converter=DATA_CONVERTER,
    )
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
    workers: list[Worker] = []
    queues: list[str] = []
    readers: list[asyncio.Task[None]] = []
    if role in ("all", "lifecycle"):
        workers.append(build_worker(client, settings, stubs=stubs))
        queues.append(settings.task_queue)
        await start_audit_retention(client, settings)
    if role in ("all", "delivery"):
        workers.append(build_delivery_worker(client, settings, notify=stubs.notify))
        queues.append(settings.delivery_task_queue)
        readers.append(asyncio.create_task(build_dispatcher(client, settings, notify=stubs.notify).run()))
        relay = build_task_closing_relay(settings, approval=stubs.approval, notify=stubs.notify)
        readers.append(asyncio.create_task(relay.run()))
        events = build_event_relay(settings, registry=stubs.registry, approval=stubs.approval,
                                   reporting=stubs.reporting)
        readers.append(asyncio.create_task(events.run()))
        notices = build_notice_relay(settings, approval=stubs.approval, notify=stubs.notify, registry=stubs.registry)
        readers.append(asyncio.create_task(notices.run()))
    log.info("worker.started", role=role, task_queues=queues, temporal=settings.temporal_address)
    try:
        async with contextlib.AsyncExitStack() as running:
            for w in workers:
                await running.enter_async_context(w)
            await stop.wait()
    finally:
        for reader in readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        for sig in signals:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        for ch in channels:
            await ch.close()
        log.info("worker.stopped")
