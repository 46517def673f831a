"""The worker's metrics: the Temporal SDK's own (workflow and activity task latency, activity
failures by type, schedule-to-start latency, task slots used and available, sticky cache, …)
served by its Rust core on a loopback port, and re-exposed on the worker's one ``/metrics`` page
beside ours, so a pod has one metrics port.

SDK series carry ``task_queue``, ``namespace`` and, per task, ``workflow_type`` / ``activity_type``
(``temporal_activity_execution_failed_total{activity_type=…}``,
``temporal_activity_execution_latency_seconds``, ``temporal_workflow_task_execution_latency_seconds``,
``temporal_worker_task_slots_used`` / ``_available{worker_type=…}``,
``temporal_activity_schedule_to_start_latency_seconds``; local activities as
``temporal_local_activity_execution_latency_seconds`` / ``_failed_total``). No worker interceptor
of ours is needed: these already give latency and failures by activity type."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterable
from typing import Any

import structlog
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from baobei.core.metrics import register_collector
from baobei.core.settings import Settings

log = structlog.get_logger(__name__)


def component_of(role: str) -> str:
    """The metrics component name of a worker role (``all`` runs both queues as ``worker``)."""
    return "delivery-worker" if role == "delivery" else "worker"


def sdk_port(settings: Settings, component: str) -> int:
    """Where the SDK serves its metrics: ``<component>-sdk`` in ``metrics_ports``, else the
    component's own metrics port + 1 (a pod's own network namespace); 0 = metrics off."""
    own = settings.metrics_port_of(component)
    if own <= 0:
        return 0
    return settings.metrics_ports_map().get(f"{component}-sdk", own + 1)


class SdkMetrics(Collector):
    """The SDK's page, fetched and parsed at scrape time (loopback, a few milliseconds)."""

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        self.url = url
        self.timeout = timeout

    def collect(self) -> Iterable[Any]:
        try:
            with urllib.request.urlopen(self.url, timeout=self.timeout) as resp:  # noqa: S310 - our loopback URL
                text = resp.read().decode("utf-8")
        except OSError as err:
            log.warning("metrics.sdk_unreachable", url=self.url, error=str(err))
            return []
        return list(text_string_to_metric_families(text))

    def describe(self) -> Iterable[Any]:
        return []


def worker_runtime(settings: Settings, role: str) -> Runtime | None:
    """A Temporal runtime exporting the SDK's metrics to Prometheus, or None (the default runtime)
    when this worker has no metrics port. Pass it to ``Client.connect(runtime=…)``."""
    component = component_of(role)
    port = sdk_port(settings, component)
    if not port:
        return None
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"127.0.0.1:{port}", counters_total_suffix=True, unit_suffix=True,
                durations_as_seconds=True,
            ),
            global_tags={"component": component},
        )
    )
    register_collector("temporal_sdk", SdkMetrics(f"http://127.0.0.1:{port}/metrics"))
    log.info("metrics.sdk", component=component, port=port)
    return runtime
