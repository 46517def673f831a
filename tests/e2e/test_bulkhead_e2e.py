"""The delivery bulkhead on a real stack (``baobei dev``: lifecycle worker and delivery worker as
separate processes, real Temporal dev server): a DingTalk robot goes dead (a loopback port that
accepts connections and never answers) while 500 messages are queued for it; approval decisions
keep their one-at-a-time latency. Decisions are measured on the same stack without the backlog,
then with it in flight; the backlog may not make them more than 3x slower (with 2 s of slack for a
busy 2-core machine) and must still be unfinished when the measurement ends. Registrations
(create + submit) are held to the same bound.

A private stack: its dead robot must not catch the robot deliveries of the other e2e tests."""

from __future__ import annotations

import socket
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from baobei.core.grpc_client import channel
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1.notify_service_pb2_grpc import NotifyServiceStub
from cli.devstack import DevStack, launch, stack_env
from tests.e2e.test_lifecycle_e2e import Org, project_body, setup_org, todo_for

BACKLOG = 500
SAMPLES = 8
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, make_db_url: Callable[[str], str]) -> Iterator[DevStack]:
    env = stack_env(make_db_url)
    # A dead robot answers nothing: each attempt waits for the whole HTTP timeout.
    env["BAOBEI_DELIVERY_HTTP_TIMEOUT"] = "5"
    s = launch(tmp_path_factory.mktemp("baobei-bulkhead"), env)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture()
def dead_robot() -> Iterator[str]:
    """A port that completes TCP handshakes (kernel backlog) but never reads or answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(4096)
        yield f"http://127.0.0.1:{s.getsockname()[1]}/robot/send?access_token=dead"


def decision_latency(org: Org) -> tuple[float, float]:
    """Register and submit a one-step project, then time the manager's decision (and the create)."""
    t0 = time.perf_counter()
    r = org["rep"].post("/api/v1/projects", json=project_body(org.form, org.run, amount="5000", submit=True))
    create = time.perf_counter() - t0
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    task = todo_for(org["mgr"], pid, timeout=60)
    t1 = time.perf_counter()
    r = org["mgr"].post(f"/api/v1/approval-tasks/{task['id']}/decision", json={"action": "approve"})
    decide = time.perf_counter() - t1
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active", r.text
    return decide, create


def measure(org: Org) -> tuple[list[float], list[float]]:
    decides, creates = [], []
    for _ in range(SAMPLES):
        d, c = decision_latency(org)
        decides.append(d)
        creates.append(c)
    return decides, creates


def deliveries(stub: NotifyServiceStub, status: str) -> int:
    """Robot deliveries in ``status`` (one page: at most 200, so a lower bound beyond that)."""
    return len(stub.ListDeliveries(npb.ListDeliveriesRequest(status=status, channel="dingtalk", limit=1000),
                                   timeout=30).deliveries)


def test_dead_robot_backlog_does_not_slow_decisions(stack: DevStack, dead_robot: str, tmp_path: Path) -> None:
    org = setup_org(stack)
    admin = stack.client()
    decision_latency(org)  # warm-up: first-use caches, connections
    base_decide, base_create = measure(org)

    # The robot goes dead with 500 messages queued for it (one per Send to a robot-only user).
    r = admin.put("/api/v1/notification-channels/000-bulkhead",
                  json={"type": "dingtalk", "url": dead_robot, "enabled": True})
    assert r.status_code == 200, r.text
    r = admin.put(f"/api/v1/users/other-{org.run}/notification-preferences",
                  json={"channels": ["dingtalk"], "quiet_hours": None})
    assert r.status_code == 200, r.text
    ch = channel(stack.env["BAOBEI_NOTIFY_ADDR"])
    stub = NotifyServiceStub(ch)
    try:
        run = uuid.uuid4().hex[:6]
        for i in range(BACKLOG):
            stub.Send(npb.SendRequest(request_id=f"bulk-{run}-{i}", recipient_ids=[f"other-{org.run}"],
                                      kind="announcement", title=f"通知 {i}", body="机器人已失联"), timeout=30)
        # Handed to delivery workflows (none left pending), then measured while they grind.
        deadline = time.monotonic() + 120
        while deliveries(stub, "pending") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert deliveries(stub, "pending") == 0
        backlog_decide, backlog_create = measure(org)
        unfinished = sum(deliveries(stub, s) for s in ("dispatched", "digest_waiting"))
    finally:
        ch.close()
        with httpx.Client(base_url=stack.base, headers={"Authorization": f"Bearer {stack.token}"}, timeout=30) as c:
            c.put("/api/v1/notification-channels/000-bulkhead",
                  json={"type": "dingtalk", "url": dead_robot, "enabled": False})

    med = statistics.median
    report = (f"decision s: without backlog median {med(base_decide):.3f} max {max(base_decide):.3f}; "
              f"with {BACKLOG} queued for a dead robot median {med(backlog_decide):.3f} max {max(backlog_decide):.3f}; "
              f"create s: {med(base_create):.3f} → {med(backlog_create):.3f}; unfinished deliveries >= {unfinished}")
    print(report)
    (tmp_path / "bulkhead.txt").write_text(report)
    # The backlog was still there (a fifth of it at least) when the measurement ended.
    assert unfinished >= BACKLOG // 5, report
    # Decisions keep their one-at-a-time latency: at most 3x, with 2 s of slack for a busy 2-core
    # machine (the failure this guards against: 12-30 s and 503s behind a replaying worker).
    assert med(backlog_decide) <= max(3 * med(base_decide), med(base_decide) + 2.0), report
    assert max(backlog_decide) < 10.0, report
    assert med(backlog_create) <= max(3 * med(base_create), med(base_create) + 2.0), report
