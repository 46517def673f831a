"""The dev overlay brought up as separate processes on loopback, exactly as its manifests wire
them (see loopback.py): the Temporal setup Job, per service the migrate init container then the
server, TWO lifecycle worker replicas and the delivery worker, the edge; services on PostgreSQL,
one database per service. The contract path runs over HTTP (org → form → policy → projects →
approvals → active) while one lifecycle worker is killed with SIGKILL in the middle; every project still ends active."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import grpc
import httpx
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from baobei.core.settings import SERVICES
from cli.tools.manifests import render_overlay
from tests.conftest import free_port, temporal_cli_path, wait_port
from tests.deploy.loopback import Proc, Wiring, by_kind, named, pod_procs

pytestmark = pytest.mark.timeout(900)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg_admin_url() -> str:
    url = os.environ.get("BAOBEI_TEST_PG_URL") or DEFAULT_PG
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as err:
        pytest.skip(f"PostgreSQL not reachable at {url}: {err}")
    return url


@pytest.fixture(scope="module")
def pg_databases() -> Iterator[dict[str, str]]:
    """One fresh database per service on the test PostgreSQL, dropped afterwards."""
    admin = _pg_admin_url()
    run = uuid.uuid4().hex[:8]
    names = {svc: f"bbk8s_{svc}_{run}" for svc in SERVICES}
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0] if admin.count("/") > 2 else admin.rstrip("/")
    try:
        yield {svc: f"{base}/{name}" for svc, name in names.items()}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Cluster:
    """The processes of one test, stopped (newest first) at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self._files: list[IO[bytes]] = []

    def _log(self, name: str) -> IO[bytes]:
        path = self.tmp / "logs" / (name.replace("/", "_") + ".log")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.logs[name] = path
        f = open(path, "ab")  # noqa: SIM115 - closed in stop()
        self._files.append(f)
        return f

    def run(self, proc: Proc, timeout: float = 180) -> None:
        """Run to completion (an init container or a Job)."""
        out = self._log(proc.name)
        code = subprocess.call(proc.argv, env=proc.env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
        assert code == 0, f"{proc.name} exited {code}:\n{self.tail(proc.name)}"

    def start(self, proc: Proc) -> subprocess.Popen[bytes]:
        out = self._log(proc.name)
        p = subprocess.Popen(
            proc.argv, env=proc.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.running[proc.name] = p
        return p

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.logs.get(name)
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path else ""

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n{self.tail(name, 15)}" for name in self.logs)

    def check_alive(self, *except_: str) -> None:
        for name, p in self.running.items():
            if name not in except_ and p.poll() is not None:
                raise AssertionError(f"{name} exited with {p.returncode}:\n{self.tail(name)}")

    def stop(self) -> None:
        for _name, p in reversed(list(self.running.items())):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.running.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        for f in self._files:
            f.close()


def _healthy(addr: str) -> bool:
    try:
        with grpc.insecure_channel(addr) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)
    except grpc.RpcError:
        return False


def _wait(cluster: Cluster, ready: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cluster.check_alive()
        try:
            if ready():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} not ready after {timeout}s\n{cluster.tails()}")


def test_dev_overlay_as_processes_survives_a_killed_worker(
    tmp_path: Path, pg_databases: dict[str, str], redis_url: str
) -> None:
    objs = render_overlay("dev")
    config = named(objs, "ConfigMap", next(
        c["metadata"]["name"] for c in by_kind(objs, "ConfigMap") if c["metadata"]["name"].startswith("baobei-config")
    ))["data"]

    # Every Service of the render gets a loopback port; Temporal is the dev server below.
    addr: dict[str, str] = {}
    for service in by_kind(objs, "Service"):
        for port in service["spec"]["ports"]:
            addr[f"{service['metadata']['name']}:{port['port']}"] = f"127.0.0.1:{free_port()}"
    temporal_port = free_port()
    addr[config["BAOBEI_TEMPORAL_ADDRESS"]] = f"127.0.0.1:{temporal_port}"
    edge_port = free_port()
    addr[config["BAOBEI_PORT"]] = str(edge_port)  # the edge's listening port (8000 in the pod)
    wiring = Wiring(addr=addr, secrets={"baobei-db": pg_databases, "baobei-redis": {"url": redis_url}})

    cluster = Cluster(tmp_path)
    temporal = subprocess.Popen(
        [
            temporal_cli_path(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(temporal_port),
            "--headless", "--namespace", config["BAOBEI_TEMPORAL_NAMESPACE"], "--log-level", "warn",
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        wait_port(temporal_port, 60)

        # The Job registers the search attributes (the dev server was started without them).
        job = named(objs, "Job", "temporal-setup")
        for proc in pod_procs(objs, job, wiring, "temporal-setup", tmp_path):
            cluster.run(proc)
        listed = subprocess.run(
            [temporal_cli_path(), "operator", "search-attribute", "list", "--address", f"127.0.0.1:{temporal_port}",
             "--namespace", config["BAOBEI_TEMPORAL_NAMESPACE"]],
            capture_output=True, text=True, timeout=60,
        )
        for name in ("BaobeiStage", "BaobeiApprovers", "BaobeiAmount", "BaobeiRegion", "BaobeiSlaDeadline",
                     "BaobeiCode"):
            assert name in listed.stdout, listed.stdout + listed.stderr

        # Services: migrate (init container) then serve; one database each.
        for svc in SERVICES:
            procs = pod_procs(objs, named(objs, "Deployment", svc), wiring, svc, tmp_path)
            assert [p.argv[1:] for p in procs] == [["migrate", svc], ["serve", svc]]
            assert procs[1].env[f"BAOBEI_{svc.upper()}_DB_URL"] == pg_databases[svc]
            cluster.run(procs[0])
            cluster.start(procs[1])
        for svc in SERVICES:
            target = addr[config[f"BAOBEI_{svc.upper()}_ADDR"]]
            _wait(cluster, lambda t=target: _healthy(t), svc)
        with psycopg.connect(pg_databases["registry"]) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone()

        # Two worker replicas and the edge.
        worker = named(objs, "Deployment", "worker")
        workers = []
        for i in (1, 2):
            (proc,) = pod_procs(objs, worker, wiring, f"worker-{i}", tmp_path)
            assert proc.argv[1:] == ["worker", "--role", "lifecycle"]
            workers.append((proc, cluster.start(proc)))
        # The delivery worker (notification delivery and its outbox dispatcher, its own queue).
        (delivery,) = pod_procs(objs, named(objs, "Deployment", "delivery-worker"), wiring, "delivery-worker", tmp_path)
        assert delivery.argv[1:] == ["worker", "--role", "delivery"]
        cluster.start(delivery)
        (edge_proc,) = pod_procs(objs, named(objs, "Deployment", "edge"), wiring, "edge", tmp_path)
        assert edge_proc.argv[1:] == ["edge"] and edge_proc.env["BAOBEI_PORT"] == str(edge_port)
        cluster.start(edge_proc)
        base = f"http://127.0.0.1:{edge_port}"
        _wait(cluster, lambda: httpx.get(f"{base}/healthz", timeout=5).status_code == 200, "edge /healthz", 180)
        # The edge's probes answer as the manifest asks.
        probe = named(objs, "Deployment", "edge")["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
        assert httpx.get(f"{base}{probe['httpGet']['path']}", timeout=5).status_code == 200
        # The workers' liveness probe command passes against their own data dirs.
        for proc, _p in workers:
            assert proc.data_dir is not None
            _wait(cluster, lambda d=proc.data_dir: (d / "worker.heartbeat").exists(), "worker heartbeat", 30)
            command = worker["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["exec"]["command"]
            localised = [c.replace("/var/lib/baobei", str(proc.data_dir)) for c in command]
            assert subprocess.call(localised, timeout=30) == 0

        run_contract_path(base, config_token=edge_proc.env["BAOBEI_ADMIN_TOKEN"], kill=workers[0][1], cluster=cluster)
        cluster.check_alive(workers[0][0].name)
        assert workers[1][1].poll() is None, "the surviving worker must still run"
    finally:
        cluster.stop()
        temporal.terminate()
        try:
            temporal.wait(20)
        except subprocess.TimeoutExpired:
            temporal.kill()


def run_contract_path(base: str, *, config_token: str, kill: subprocess.Popen[bytes], cluster: Cluster) -> None:
    run = uuid.uuid4().hex[:6]
    api = f"{base}/api/v1"

    def client(token: str) -> httpx.Client:
        return httpx.Client(base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    admin = client(config_token)
    r = admin.put("/org", json={
        "departments": [{"id": f"sales-{run}", "name": "销售部", "manager_id": f"boss-{run}"}],
        "users": [
            {"id": f"rep-{run}", "name": "张三", "department_id": f"sales-{run}", "roles": ["sales"]},
            {"id": f"boss-{run}", "name": "李经理", "department_id": f"sales-{run}", "roles": ["manager"]},
        ],
    })
    assert r.status_code == 200, r.text
    rep = client(admin.post(f"/users/rep-{run}/tokens").json()["token"])
    boss = client(admin.post(f"/users/boss-{run}/tokens").json()["token"])
    form = f"std-{run}"
    r = admin.put(f"/forms/{form}", json={
        "title": "项目报备", "fields": [{"key": "phone", "label": "电话", "type": "phone", "required": True}],
    })
    assert r.status_code == 200, r.text
    r = admin.put(f"/approval-policies/{form}", json={
        "form_key": form,
        "steps": [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}],
    })
    assert r.status_code == 200, r.text

    def create(i: int) -> str:
        r = rep.post("/projects", json={
            "form_key": form, "name": f"智慧园区-{run}-{i}", "customer": {"name": f"杭州某某科技有限公司{run}{i}"},
            "amount": "120000", "fields": {"phone": "13800138000"}, "submit": True,
        })
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    # Projects spread over both workers; then one worker dies while decisions are in flight.
    projects = [create(i) for i in range(4)]
    task_of: dict[str, str] = {}
    deadline = time.monotonic() + 60
    while not set(projects) <= set(task_of) and time.monotonic() < deadline:
        task_of = {t["project_id"]: t["id"] for t in boss.get("/me/todos").json()["items"]}
        time.sleep(0.2)
    assert set(projects) <= set(task_of), task_of

    def decide(project_id: str) -> int:
        return boss.post(f"/approval-tasks/{task_of[project_id]}/decision", json={"action": "approve"}).status_code

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = [pool.submit(decide, p) for p in projects[:2]]
        time.sleep(0.05)
        kill.send_signal(signal.SIGKILL)  # mid-way: decisions running, two projects not decided yet
        kill.wait(10)
        more = [pool.submit(decide, p) for p in projects[2:]]
        codes = [f.result() for f in first + more]
    # 200 (the workflow acted), or 503 when it took longer than the edge waits: it still completes.
    assert all(code in (200, 503) for code in codes), codes
    deadline = time.monotonic() + 180
    pending = set(projects)
    while pending and time.monotonic() < deadline:
        for pid in sorted(pending):
            if rep.get(f"/projects/{pid}").json().get("status") == "active":
                pending.discard(pid)
        time.sleep(0.5)
    assert not pending, f"not active: {pending}; decisions {codes}\n{cluster.tails()}"
