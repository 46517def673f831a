"""``baobei status``: one screen of health for ops at a terminal, read from the running stack.

Components: each service's gRPC health check, the edge's ``/healthz``, Temporal and the pollers
of both task queues (a worker is up when it polls). Work: approvals waiting (by stage, past SLA,
the oldest) and dead letters, from the approval and notify services' ``/metrics`` (the gauges
they compute from their own databases). Metrics URLs come from ``<data-dir>/metrics.json``
(written by ``baobei dev``), else from the metrics port settings.

Exit status 0 when every component is up, 1 otherwise (scripts and cron can use it)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from baobei.core.grpc_client import channel
from baobei.core.settings import SERVICES, Settings

TIMEOUT = 3.0
METRICS_FILE = "metrics.json"


@dataclass
class Report:
    at: datetime
    components: dict[str, str] = field(default_factory=dict)  # name → "ok" | "down: why"
    waiting_by_stage: dict[str, float] = field(default_factory=dict)
    past_sla: float | None = None
    oldest_seconds: float | None = None
    dead_letters: float | None = None
    open_deliveries: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def down(self) -> list[str]:
        return [name for name, state in self.components.items() if state != "ok"]


def metrics_urls(settings: Settings) -> dict[str, str]:
    path = Path(settings.data_dir) / METRICS_FILE
    if path.is_file():
        try:
            return {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
        except (OSError, ValueError):
            pass
    urls = {}
    for component in ("approval", "notify"):
        port = settings.metrics_port_of(component)
        if port:
            # The service's own host (in Kubernetes its Service, which the monitoring component
            # gives a "metrics" port); loopback when it listens on all interfaces.
            host = settings.addr(component).rsplit(":", 1)[0].strip("[]")
            host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
            urls[component] = f"http://{host}:{port}/metrics"
    return urls


def _service(settings: Settings, service: str) -> str:
    try:
        with channel(settings.addr(service)) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT)
    except grpc.RpcError as err:
        return f"down: {err.code().name if hasattr(err, 'code') else 'unreachable'}"
    if resp.status != health_pb2.HealthCheckResponse.SERVING:
        return f"down: {health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)}"
    return "ok"


def _edge(settings: Settings) -> str:
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    try:
        r = httpx.get(f"http://{host}:{settings.port}/healthz", timeout=TIMEOUT + 3)
    except httpx.HTTPError as err:
        return f"down: {type(err).__name__}"
    return "ok" if r.status_code in (200, 503) else f"down: HTTP {r.status_code}"  # 503 = a peer is down


async def _temporal(settings: Settings) -> dict[str, str]:
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
    from temporalio.client import Client

    queues = {"worker": settings.task_queue, "delivery-worker": settings.delivery_task_queue}
    try:
        client = await asyncio.wait_for(
            Client.connect(settings.temporal_address, namespace=settings.temporal_namespace), TIMEOUT
        )
    except Exception as err:  # noqa: BLE001 - unreachable, timeout, TLS …
        return {"temporal": f"down: {type(err).__name__}", **{w: "unknown" for w in queues}}
    states = {"temporal": "ok"}
    for worker, queue in queues.items():
        try:
            resp = await client.workflow_service.describe_task_queue(
                DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=queue),
                                         task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
                timeout=timedelta(seconds=TIMEOUT),
            )
        except Exception as err:  # noqa: BLE001
            states[worker] = f"down: {type(err).__name__}"
            continue
        states[worker] = "ok" if resp.pollers else f"down: no poller on task queue {queue}"
    return states


def scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """``name → [(labels, value)]`` of one /metrics page."""
    text = httpx.get(url, timeout=TIMEOUT).raise_for_status().text
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), float(sample.value)))
    return out


def _total(series: dict[str, list[tuple[dict[str, str], float]]], name: str) -> float | None:
    if name not in series:
        return None
    return sum(v for _, v in series[name])


def collect(settings: Settings) -> Report:
    report = Report(at=datetime.now(UTC))
    report.components["edge"] = _edge(settings)
    for service in SERVICES:
        report.components[service] = _service(settings, service)
    report.components.update(asyncio.run(_temporal(settings)))
    urls = metrics_urls(settings)
    for component in ("approval", "notify"):
        url = urls.get(component)
        if not url:
            report.notes.append(f"{component}: no metrics port known (BAOBEI_METRICS_PORT(S) or --data-dir)")
            continue
        try:
            series = scrape(url)
        except (httpx.HTTPError, ValueError) as err:
            report.notes.append(f"{component} metrics unreachable at {url}: {type(err).__name__}")
            continue
        if component == "approval":
            for labels, value in series.get("baobei_approvals_waiting", []):
                stage = labels.get("stage", "")
                report.waiting_by_stage[stage] = report.waiting_by_stage.get(stage, 0) + value
            report.past_sla = _total(series, "baobei_approvals_past_sla") or 0.0
            report.oldest_seconds = _total(series, "baobei_approvals_oldest_waiting_seconds")
        else:
            report.dead_letters = _total(series, "baobei_notify_dead_letters")
            report.open_deliveries = sum(
                v for labels, v in series.get("baobei_notify_deliveries", []) if labels.get("status") != "dead"
            )
    return report


def age(seconds: float | None) -> str:
    """A short age: 45s, 12m, 3h 20m, 2d 4h; "—" for none."""
    if not seconds:
        return "—"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60}m"
    return f"{s // 86400}d {s % 86400 // 3600}h"


def _n(value: float | None) -> str:
    return "n/a" if value is None else str(int(value))


def render(report: Report) -> str:
    """The screen (pure: tested without a stack)."""
    lines = [f"Baobei 状态 status   {report.at:%Y-%m-%d %H:%M:%S} UTC", "", "组件 Components"]
    for name, state in report.components.items():
        mark = "✔" if state == "ok" else "✘"
        lines.append(f"  {mark} {name:<16}{state}")
    waiting = sum(report.waiting_by_stage.values()) if report.waiting_by_stage or report.past_sla is not None else None
    lines += ["", "审批 Approvals"]
    lines.append(f"  待审批 waiting: {_n(waiting)}   超时 past SLA: {_n(report.past_sla)}   "
                 f"最久等待 oldest waiting: {age(report.oldest_seconds) if waiting else '—'}")
    if report.waiting_by_stage:
        stages = sorted(report.waiting_by_stage.items(), key=lambda kv: (-kv[1], kv[0]))
        lines.append("  按环节 by stage: " + ", ".join(f"{stage or '—'} {int(n)}" for stage, n in stages[:8]))
    lines += ["", "通知 Notifications"]
    lines.append(f"  死信 dead letters: {_n(report.dead_letters)}   "
                 f"待投递 open deliveries: {_n(report.open_deliveries)}")
    if report.notes:
        lines += ["", *(f"  注意 note: {n}" for n in report.notes)]
    down = report.down
    lines += ["", "全部正常 all components up" if not down else f"异常 down: {', '.join(down)}"]
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "at": report.at.isoformat(),
        "components": report.components,
        "down": report.down,
        "approvals": {"waiting": sum(report.waiting_by_stage.values()), "by_stage": report.waiting_by_stage,
                      "past_sla": report.past_sla, "oldest_waiting_seconds": report.oldest_seconds},
        "notifications": {"dead_letters": report.dead_letters, "open_deliveries": report.open_deliveries},
        "notes": report.notes,
    }


def run(settings: Settings, *, json_out: bool = False) -> int:
    report = collect(settings)
    print(json.dumps(as_json(report), ensure_ascii=False, indent=2) if json_out else render(report), flush=True)
    return 1 if report.down else 0
