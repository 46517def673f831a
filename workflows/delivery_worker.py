"""The delivery worker (``baobei worker --role delivery``): NotificationDelivery and the notify
activities it runs (Deliver, DeliverDigest, DeadLetter) on ``settings.delivery_task_queue``, plus
the outbox dispatcher that starts those workflows, the relay of closed approval tasks to
notify (their IM cards and 待办, workflows/task_closings.py) and the relay of the registry's and
approval's reporting events to reporting (workflows/event_relay.py) and the relay of approval's
approval requests to notify (workflows/notice_relay.py).

A bulkhead: a dead robot or a flood of deliveries keeps this worker busy (its workflow tasks,
its cache, its activity slots) and never the lifecycle worker that runs registrations and
decisions on ``settings.task_queue``. Scale it on its own."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from baobei.approval.v1.approval_service_pb2_grpc import ApprovalServiceStub
from baobei.core.settings import Settings
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from workflows.activities import NotifyActivities
from workflows.delivery import NotificationDelivery
from workflows.dispatcher import Dispatcher, RetrySettings
from workflows.event_relay import POLL_SECONDS, EventRelay, approval_source, registry_source
from workflows.notice_relay import NoticeRelay
from workflows.sandbox import workflow_runner
from workflows.task_closings import TaskClosingRelay

DELIVERY_WORKFLOWS = [NotificationDelivery]
# Every batch workflow stays cached (no replay from the start on each task) up to this many; its
# workflow tasks are small (MAX_IN_FLIGHT steps at most), so a few run at once. Activities are
# Deliver calls that hold one of notify's gRPC threads (16) while a robot or SMTP server answers,
# or times out when dead: half of them per replica at most, so Send (the lifecycle's calls) and
# the inbox always find a free thread.
MAX_CACHED_WORKFLOWS = 1000
MAX_CONCURRENT_WORKFLOW_TASKS = 10
MAX_CONCURRENT_ACTIVITIES = 8
# A backlog (a dead robot's 500 messages after a restart) starts as a burst of Deliver calls; at
# this pace per replica it costs notify and Temporal a bounded share of the CPU that decisions
# need, and still delivers 1500 messages a minute per replica (robots take 20 a minute anyway).
MAX_ACTIVITIES_PER_SECOND = 25.0


def build_delivery_worker(
    client: Client, settings: Settings, *, notify: NotifyServiceStub, task_queue: str | None = None
) -> Worker:
    timeout = settings.rpc_timeout
    # Deliver / DeliverDigest wait for an SMTP server, a robot or a webhook receiver.
    send_timeout = max(settings.delivery_http_timeout, settings.smtp_timeout)
    acts = NotifyActivities(notify, timeout=timeout, deliver_timeout=timeout + send_timeout)
    return Worker(
        client,
        task_queue=task_queue or settings.delivery_task_queue,
        workflows=DELIVERY_WORKFLOWS,
        activities=[acts.deliver, acts.deliver_digest, acts.dead_letter],
        workflow_runner=workflow_runner(settings),
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
        max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        max_activities_per_second=MAX_ACTIVITIES_PER_SECOND,
    )


def build_task_closing_relay(
    settings: Settings, *, approval: ApprovalServiceStub, notify: NotifyServiceStub, poll_seconds: float = 1.0
) -> TaskClosingRelay:
    return TaskClosingRelay(approval, notify, poll_seconds=poll_seconds, rpc_timeout=settings.rpc_timeout)


def build_event_relay(
    settings: Settings, *, registry: RegistryServiceStub, approval: ApprovalServiceStub,
    reporting: ReportingServiceStub, poll_seconds: float = POLL_SECONDS,
) -> EventRelay:
    return EventRelay([registry_source(registry), approval_source(approval)], reporting, poll_seconds=poll_seconds,
                      rpc_timeout=settings.rpc_timeout)


def build_notice_relay(
    settings: Settings, *, approval: ApprovalServiceStub, notify: NotifyServiceStub, registry: RegistryServiceStub,
) -> NoticeRelay:
    return NoticeRelay(approval, notify, registry, rpc_timeout=settings.rpc_timeout)


def build_dispatcher(
    client: Client, settings: Settings, *, notify: NotifyServiceStub, task_queue: str | None = None,
    poll_seconds: float = 3.0,
) -> Dispatcher:
    return Dispatcher(
        client,
        notify,
        task_queue=task_queue or settings.delivery_task_queue,
        retry=RetrySettings(
            max_attempts=settings.delivery_max_attempts,
            initial_backoff_seconds=settings.delivery_initial_backoff_seconds,
            max_backoff_seconds=settings.delivery_max_backoff_seconds,
        ),
        poll_seconds=poll_seconds,
        rpc_timeout=settings.rpc_timeout,
    )
