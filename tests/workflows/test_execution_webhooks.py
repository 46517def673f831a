"""ProjectExecution on the time-skipping server with the real tasks and notify services and the
delivery worker (outbox dispatcher, NotificationDelivery): a rule's webhook goes through notify's
one webhook sender — POSTed to a local receiver, signed per Standard Webhooks (checked here
independently), retried after a 500, one ``webhook-id`` for all attempts, visible in notify's
delivery log under the rule's owned subscription; notify's SSRF guard refuses a loopback target
unless allowed (a dead letter, never a call); ``protection_expiring`` fires once, ``before`` the
protection end read from the registry (a fake activity here), on a durable timer."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import pytest
import pytest_asyncio
from google.protobuf import struct_pb2
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from baobei.core.settings import Settings
from baobei.notify.v1 import notify_service_pb2 as notify_pb
from baobei.notify.v1 import notify_service_pb2_grpc as notify_grpc
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from workflows.activities.tasks import TasksActivities
from workflows.activities.webhooks import WebhookActivities
from workflows.contracts.execution import (
    EXECUTION_QUERY_STATE,
    EXECUTION_SIGNAL_CHANGED,
    EXECUTION_SIGNAL_STOP,
    EXECUTION_WORKFLOW_TYPE,
    ExecutionInput,
    ExecutionState,
    TasksChanged,
    execution_workflow_id,
)
from workflows.contracts.notify import NOTIFY_SEND, SendInput, SendResult
from workflows.contracts.reporting import (
    REPORTING_INGEST_EVENT,
    REPORTING_INGEST_EVENTS,
    ReportEventInput,
    ReportEventResult,
    ReportEventsInput,
    ReportEventsResult,
)
from workflows.contracts.tasks import (
    REGISTRY_PROTECTION_INFO,
    REGISTRY_RESOLVE_RECIPIENTS,
    ProtectionInfo,
    ProtectionInfoInput,
    ResolveRecipientsInput,
    ResolveRecipientsResult,
)
from workflows.delivery_worker import build_delivery_worker, build_dispatcher
from workflows.execution import ProjectExecution

pytestmark = pytest.mark.asyncio(loop_scope="module")
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


@dataclass
class Receiver:
    """A webhook receiver: verifies signature and timestamp window, fails the first call with 500
    when asked, and dedupes by webhook-id (what a well-behaved receiver does)."""

    fail_first: bool = True
    calls: list[dict[str, str]] = field(default_factory=list)
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    url: str = ""

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        self.calls.append(headers)
        msg_id, ts = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "0")
        key = base64.b64decode(SECRET.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest())
        sigs = [s.partition(",")[2] for s in headers.get("webhook-signature", "").split() if s.startswith("v1,")]
        if not any(hmac.compare_digest(s.encode(), expected) for s in sigs):
            self.errors.append("bad signature")
            return 401
        if abs(time.time() - int(ts)) > 300:
            self.errors.append("timestamp outside window")
            return 401
        if self.fail_first and len(self.calls) == 1:
            return 500
        self.processed.setdefault(msg_id, json.loads(body))
        return 204


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = rec.handle({k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/baobei"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


class Fakes:
    def __init__(self) -> None:
        self.sent: dict[str, SendInput] = {}
        self.protection: dict[str, ProtectionInfo] = {}
        self.protection_reads: Counter[str] = Counter()

    @activity.defn(name=NOTIFY_SEND)
    async def send(self, inp: SendInput) -> SendResult:
        self.sent.setdefault(inp.request_id, inp)
        return SendResult(notification_ids=[inp.request_id])

    @activity.defn(name=REPORTING_INGEST_EVENT)
    async def ingest(self, inp: ReportEventInput) -> ReportEventResult:
        return ReportEventResult(applied=True)

    @activity.defn(name=REPORTING_INGEST_EVENTS)
    async def ingest_events(self, inp: ReportEventsInput) -> ReportEventsResult:
        return ReportEventsResult(applied=len(inp.events))

    @activity.defn(name=REGISTRY_RESOLVE_RECIPIENTS)
    async def resolve(self, inp: ResolveRecipientsInput) -> ResolveRecipientsResult:
        return ResolveRecipientsResult(user_ids=inp.user_ids)

    @activity.defn(name=REGISTRY_PROTECTION_INFO)
    async def protection_info(self, inp: ProtectionInfoInput) -> ProtectionInfo:
        self.protection_reads[inp.project_id] += 1
        return self.protection.get(inp.project_id, ProtectionInfo(state="none"))


@dataclass
class Stack:
    fakes: Fakes
    stub: pb_grpc.TasksServiceStub
    queue: str
    notify: notify_grpc.NotifyServiceStub


async def _stack(
    env: WorkflowEnvironment, start_service: StartService, redis_url: str, *, allow_internal: bool
) -> AsyncIterator[Stack]:
    fakes = Fakes()
    settings = Settings(
        webhook_allow_internal=allow_internal, temporal_address=env.client.service_client.config.target_host,
        temporal_namespace=env.client.namespace, delivery_task_queue=f"dlv-{uuid.uuid4().hex[:8]}",
        delivery_max_attempts=4, delivery_initial_backoff_seconds=1, delivery_max_backoff_seconds=5,
    )
    tasks_svc = start_service("tasks")
    notify_svc = start_service("notify", settings=settings, registry_addr="", redis_url=redis_url)
    channel = grpc.aio.insecure_channel(tasks_svc.addr)
    notify_channel = grpc.aio.insecure_channel(notify_svc.addr)
    stub = pb_grpc.TasksServiceStub(channel)
    notify = notify_grpc.NotifyServiceStub(notify_channel)
    tasks = TasksActivities(stub)
    hooks = WebhookActivities(stub, notify, timeout=5)
    queue = f"hook-{uuid.uuid4().hex[:8]}"
    dispatcher = asyncio.create_task(build_dispatcher(env.client, settings, notify=notify, poll_seconds=0.5).run())
    async with build_delivery_worker(env.client, settings, notify=notify), Worker(
        env.client,
        task_queue=queue,
        workflows=[ProjectExecution],
        activities=[
            fakes.send,
            fakes.ingest,
            fakes.ingest_events,
            fakes.resolve,
            fakes.protection_info,
            tasks.apply_template,
            tasks.start_plan,
            tasks.save_baseline,
            tasks.evaluate_rules,
            tasks.record_fire,
            hooks.deliver,
        ],
    ):
        yield Stack(fakes, pb_grpc.TasksServiceStub(tasks_svc.channel), queue,
                    notify_grpc.NotifyServiceStub(notify_svc.channel))
    dispatcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dispatcher
    await channel.close()
    await notify_channel.close()


@pytest_asyncio.fixture(loop_scope="module")
async def stack(env: WorkflowEnvironment, start_service: StartService, redis_url: str) -> AsyncIterator[Stack]:
    async for s in _stack(env, start_service, redis_url, allow_internal=True):
        yield s


@pytest_asyncio.fixture(loop_scope="module")
async def guarded(env: WorkflowEnvironment, start_service: StartService, redis_url: str) -> AsyncIterator[Stack]:
    async for s in _stack(env, start_service, redis_url, allow_internal=False):
        yield s


def deliveries(stack: Stack, pid: str) -> list[notify_pb.Delivery]:
    return list(stack.notify.ListDeliveries(notify_pb.ListDeliveriesRequest(project_id=pid, channel="webhook"),
                                            timeout=10).deliveries)


def put_rule(stub: pb_grpc.TasksServiceStub, key: str, body: dict[str, Any]) -> None:
    s = struct_pb2.Struct()
    s.update(body)
    stub.PutRule(pb.PutRuleRequest(request_id=f"{key}-{uuid.uuid4().hex[:6]}", key=key, body=s), timeout=10)


async def start(
    env: WorkflowEnvironment, queue: str, pid: str, protection: ProtectionInfo | None = None
) -> WorkflowHandle[Any, Any]:
    return await env.client.start_workflow(
        EXECUTION_WORKFLOW_TYPE,
        ExecutionInput(project_id=pid, owner_id="owner", name="智慧园区", amount="100000", apply_template=False,
                       protection=protection),
        id=execution_workflow_id(pid),
        task_queue=queue,
        execution_timeout=timedelta(days=60),
    )


async def until_real(check: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait in real time: deliveries are HTTP calls by the delivery worker."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.1)


async def until(env: WorkflowEnvironment, check: Callable[[], bool], step: timedelta = timedelta(seconds=5)) -> None:
    for _ in range(60):
        if check():
            return
        await env.sleep(step)
    raise AssertionError("condition not reached")


async def finish_task_and_signal(stack: Stack, env: WorkflowEnvironment, pid: str) -> tuple[str, Any]:
    task = stack.stub.CreateTask(
        pb.CreateTaskRequest(request_id=f"{pid}-t", project_id=pid, name="上线验收", assignee_id="alice"), timeout=10
    ).task
    handle = await start(env, stack.queue, pid)
    stack.stub.UpdateTask(pb.UpdateTaskRequest(request_id=f"{pid}-done", task_id=task.id, status="done"), timeout=10)
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged())
    return task.id, handle


async def test_webhook_is_signed_retried_after_500_and_delivered_once(
    env: WorkflowEnvironment, stack: Stack, receiver: Receiver
) -> None:
    pid = f"p-{uuid.uuid4().hex[:6]}"
    put_rule(
        stack.stub,
        "done-hook",
        {
            "name": "完成回调",
            "trigger": {"type": "status_change", "to": "done"},
            "when": f'project.id == "{pid}"',
            "actions": [{"type": "webhook", "url": receiver.url, "secret": SECRET}],
        },
    )
    task_id, handle = await finish_task_and_signal(stack, env, pid)
    await until(env, lambda: bool(stack.stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires))
    await until_real(lambda: [d.status for d in deliveries(stack, pid)] == ["delivered"])
    assert receiver.errors == []
    assert len(receiver.calls) == 2  # 500, then the retry
    ids = {c["webhook-id"] for c in receiver.calls}
    fires = stack.stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires
    [delivery] = deliveries(stack, pid)
    assert len(fires) == 1 and ids == {delivery.id}  # one webhook-id, the same on the retry
    assert delivery.attempts == 2 and delivery.kind == "rule.fired"
    assert len(receiver.processed) == 1
    msg = receiver.processed[delivery.id]
    assert msg["type"] == "rule.fired" and msg["data"]["key"] == fires[0].key
    assert msg["data"]["rule"] == "done-hook" and msg["data"]["task_id"] == task_id
    assert msg["data"]["project_id"] == pid and msg["data"]["fired_at"]
    assert list(fires[0].recipients.webhooks) == [receiver.url]
    # Later wake-ups do not deliver again.
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged())
    await env.sleep(timedelta(minutes=5))
    await asyncio.sleep(1)
    assert len(receiver.calls) == 2 and len(receiver.processed) == 1 and len(deliveries(stack, pid)) == 1
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()


async def test_ssrf_guard_refuses_loopback_without_the_setting(
    env: WorkflowEnvironment, guarded: Stack, receiver: Receiver
) -> None:
    pid = f"p-{uuid.uuid4().hex[:6]}"
    put_rule(
        guarded.stub,
        "done-hook-guarded",
        {
            "name": "完成回调",
            "trigger": {"type": "status_change", "to": "done"},
            "when": f'project.id == "{pid}"',
            "actions": [
                {"type": "webhook", "url": receiver.url, "secret": SECRET},
                {"type": "notify", "to": ["owner"]},
            ],
        },
    )
    _, handle = await finish_task_and_signal(guarded, env, pid)
    await until(env, lambda: bool(guarded.stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires))
    # Refused by notify's SSRF guard without a call (not retried: a dead letter in the delivery log),
    # the notification still went out and the fire is recorded.
    await until_real(lambda: [d.status for d in deliveries(guarded, pid)] == ["dead"])
    assert receiver.calls == [] and deliveries(guarded, pid)[0].attempts <= 1
    assert [k for k in guarded.fakes.sent if pid in k]
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()


async def test_protection_expiring_fires_once_before_the_end(env: WorkflowEnvironment, stack: Stack) -> None:
    pid = f"p-{uuid.uuid4().hex[:6]}"
    put_rule(
        stack.stub,
        "protection-1d",
        {
            "name": "保护期到期前一天提醒",
            "trigger": {"type": "protection_expiring", "before": "1d"},
            "when": f'project.id == "{pid}"',
            "actions": [{"type": "notify", "to": ["owner", "user:sales-lead"]}],
        },
    )
    now = await env.get_current_time()
    end = now + timedelta(days=3)
    stack.fakes.protection[pid] = ProtectionInfo(state="protected", until=end.isoformat())
    handle = await start(env, stack.queue, pid)

    def fired() -> list[SendInput]:
        return [s for k, s in stack.fakes.sent.items() if f"execution-{pid}:fire:protection-1d" in k]

    await env.sleep(timedelta(days=1, hours=23))  # still more than a day left
    assert fired() == []
    await env.sleep(timedelta(hours=2))
    assert len(fired()) == 1, stack.fakes.sent.keys()
    assert sorted(fired()[0].recipient_ids) == ["owner", "sales-lead"] and "保护期" in fired()[0].title
    await env.sleep(timedelta(days=2))  # past the end: nothing more
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged())
    await env.sleep(timedelta(minutes=1))
    assert len(fired()) == 1
    fires = stack.stub.ListFires(pb.ListFiresRequest(project_id=pid), timeout=10).fires
    assert [f.rule_key for f in fires] == ["protection-1d"]
    # A follow-up moves the end: the new end gets its own reminder, once.
    later = datetime.fromisoformat((await env.get_current_time()).isoformat()) + timedelta(days=2)
    stack.fakes.protection[pid] = ProtectionInfo(state="protected", until=later.isoformat())
    await handle.signal(EXECUTION_SIGNAL_CHANGED, TasksChanged())
    await env.sleep(timedelta(days=1, hours=1))
    assert len(fired()) == 2
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()


async def test_protection_given_at_start_is_not_read_again(env: WorkflowEnvironment, stack: Stack) -> None:
    """Started by the lifecycle's delivery start, which has just started the period in the
    registry: the first turn plans ``protection_expiring`` from the input, with no registry read;
    the turn its timer wakes reads the registry as before (a follow-up may have moved the end)."""
    pid = f"p-{uuid.uuid4().hex[:6]}"
    put_rule(
        stack.stub,
        "protection-given-1d",
        {
            "name": "保护期到期前一天提醒",
            "trigger": {"type": "protection_expiring", "before": "1d"},
            "when": f'project.id == "{pid}"',
            "actions": [{"type": "notify", "to": ["owner"]}],
        },
    )
    end = await env.get_current_time() + timedelta(days=3)
    period = ProtectionInfo(state="protected", until=end.isoformat())
    stack.fakes.protection[pid] = period
    handle = await start(env, stack.queue, pid, protection=period)

    def fired() -> list[SendInput]:
        return [s for k, s in stack.fakes.sent.items() if f"execution-{pid}:fire:protection-given-1d" in k]

    await env.sleep(timedelta(days=1))
    assert (await handle.query(EXECUTION_QUERY_STATE, result_type=ExecutionState)).next_wake
    assert stack.fakes.protection_reads[pid] == 0 and fired() == []
    await env.sleep(timedelta(days=1, hours=1))  # past until - 1d
    assert len(fired()) == 1
    assert stack.fakes.protection_reads[pid] >= 1
    await handle.signal(EXECUTION_SIGNAL_STOP)
    await handle.result()
