"""Grafana dashboards of Baobei (overview, approvals, notifications, workers), generated from the
short definitions below into ``deploy/k8s/components/monitoring/dashboards/*.json`` so every
panel has the same layout rules and datasource variable. ``python -m cli.tools.dashboards``
writes them; ``--check`` fails when the committed files differ (tests run it).

The JSON is Grafana's dashboard model at ``SCHEMA_VERSION`` (Grafana 10.4 / 11); the test
validates it against that version's required structure (tests/deploy/grafana_dashboard.schema.json)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "dashboards"
SCHEMA_VERSION = 39
DS = {"type": "prometheus", "uid": "${datasource}"}
NS = 'namespace=~"$namespace"'

Panel = dict[str, Any]
UP_JOBS = "edge|registry|approval|tasks|reporting|notify|worker|delivery-worker"
# Codes a caller caused (bad input, not found, refused): not the service's errors.
CALLER_CODES = "OK|NOT_FOUND|INVALID_ARGUMENT|FAILED_PRECONDITION|PERMISSION_DENIED|UNAUTHENTICATED|ALREADY_EXISTS"


def p95(histogram: str, by: str) -> str:
    """95th percentile of a histogram's rate, by ``by``."""
    return f"histogram_quantile(0.95, sum by ({by}, le) (rate({histogram}_bucket{{{NS}}}[$__rate_interval])))"


def _target(expr: str, legend: str = "", ref: str = "A") -> dict[str, Any]:
    return {"datasource": DS, "expr": expr, "legendFormat": legend or "__auto", "refId": ref, "range": True}


def timeseries(title: str, exprs: list[tuple[str, str]], *, unit: str = "short", desc: str = "") -> Panel:
    return {
        "type": "timeseries", "title": title, "description": desc, "datasource": DS,
        "targets": [_target(e, legend, chr(ord("A") + i)) for i, (e, legend) in enumerate(exprs)],
        "fieldConfig": {"defaults": {"unit": unit, "custom": {"drawStyle": "line", "fillOpacity": 10}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "desc"}},
    }


def stat(title: str, expr: str, *, unit: str = "short", desc: str = "", red_above: float | None = None) -> Panel:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if red_above is not None:
        steps.append({"color": "red", "value": red_above})
    return {
        "type": "stat", "title": title, "description": desc, "datasource": DS,
        "targets": [_target(expr)],
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "value", "graphMode": "area", "textMode": "auto"},
    }


def bargauge(title: str, expr: str, legend: str, *, desc: str = "") -> Panel:
    return {
        "type": "bargauge", "title": title, "description": desc, "datasource": DS,
        "targets": [{**_target(expr, legend), "instant": True, "range": False}],
        "fieldConfig": {"defaults": {"unit": "short"}, "overrides": []},
        "options": {"orientation": "horizontal", "displayMode": "gradient",
                    "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
    }


def layout(rows: list[list[Panel]]) -> list[Panel]:
    """Rows of panels, each row 24 columns wide split evenly; stats are short, graphs tall."""
    panels: list[Panel] = []
    y = 0
    for row in rows:
        width = 24 // len(row)
        height = 4 if all(p["type"] == "stat" for p in row) else 8
        for i, panel in enumerate(row):
            panel["id"] = len(panels) + 1
            panel["gridPos"] = {"h": height, "w": width, "x": i * width, "y": y}
            panels.append(panel)
        y += height
    return panels


def dashboard(uid: str, title: str, rows: list[list[Panel]], tags: list[str]) -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "tags": ["baobei", *tags], "schemaVersion": SCHEMA_VERSION, "version": 1,
        "editable": True, "graphTooltip": 1, "timezone": "browser", "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"}, "timepicker": {},
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
             "current": {}, "hide": 0, "refresh": 1, "options": []},
            {"name": "namespace", "label": "Namespace", "type": "query", "datasource": DS,
             "query": {"query": "label_values(baobei_grpc_server_handled_total, namespace)", "refId": "ns"},
             "definition": "label_values(baobei_grpc_server_handled_total, namespace)",
             "includeAll": True, "multi": False, "current": {}, "hide": 0, "refresh": 2, "options": [],
             "allValue": ".*"},
        ]},
        "links": [{"title": "Baobei", "type": "dashboards", "tags": ["baobei"], "asDropdown": True}],
        "panels": layout(rows),
    }


def overview() -> dict[str, Any]:
    return dashboard("baobei-overview", "Baobei · 总览 Overview", [
        [stat("组件在线 Components up", f'sum(up{{{NS}, job=~"{UP_JOBS}"}})'),
         stat("待审批 Approvals waiting", f"max(sum by (pod) (baobei_approvals_waiting{{{NS}}}))"),
         stat("超时审批 Past SLA", f"max(sum by (pod) (baobei_approvals_past_sla{{{NS}}}))", red_above=1),
         stat("死信 Dead letters", f"max(baobei_notify_dead_letters{{{NS}}})", red_above=1)],
        [timeseries("HTTP 请求 Requests / s by status", [
            (f"sum by (status) (rate(baobei_http_requests_total{{{NS}}}[$__rate_interval]))", "{{status}}")],
            unit="reqps"),
         timeseries("HTTP p95 延迟 latency by route", [
              (p95("baobei_http_request_duration_seconds", "route"), "{{route}}")], unit="s")],
        [timeseries("gRPC 错误率 error ratio by service", [
            (f'sum by (job) (rate(baobei_grpc_server_handled_total{{{NS}, grpc_code!~"{CALLER_CODES}"}}'
             f"[$__rate_interval])) / sum by (job) (rate(baobei_grpc_server_handled_total{{{NS}}}[$__rate_interval]))",
             "{{job}}")],
            unit="percentunit"),
         timeseries("登记 Registrations / day", [
             (f"sum(increase(baobei_projects_submitted_total{{{NS}}}[1d]))", "submitted"),
             (f"sum(increase(baobei_projects_created_total{{{NS}}}[1d]))", "created")])],
        [timeseries("撞单 Collisions found", [
            (f"sum by (policy) (increase(baobei_conflicts_found_total{{{NS}}}[$__rate_interval]))", "{{policy}}")]),
         timeseries("数据库连接 DB connections in use", [
             (f"sum by (database) (baobei_db_pool_checked_out{{{NS}}})", "{{database}}")])],
    ], ["overview"])


def approvals() -> dict[str, Any]:
    waiting = f"max by (namespace, stage, age) (baobei_approvals_waiting{{{NS}}})"  # replicas agree: max
    return dashboard("baobei-approvals", "Baobei · 审批 Approvals", [
        [stat("待审批 Waiting", f"max(sum by (pod) (baobei_approvals_waiting{{{NS}}}))"),
         stat("超时 Past SLA", f"max(sum by (pod) (baobei_approvals_past_sla{{{NS}}}))", red_above=1),
         stat("最久等待 Oldest waiting", f"max(baobei_approvals_oldest_waiting_seconds{{{NS}}})", unit="s"),
         stat("今日决定 Decisions today", f"sum(increase(baobei_approval_decisions_total{{{NS}}}[1d]))")],
        [bargauge("按环节 Waiting by stage", f"sum by (stage) ({waiting})", "{{stage}}"),
         bargauge("按等待时长 Waiting by age", f"sum by (age) (max by (stage, age) (baobei_approvals_waiting{{{NS}}}))",
                  "{{age}}")],
        [timeseries("待审批 Waiting over time by stage", [(f"sum by (stage) ({waiting})", "{{stage}}")]),
         timeseries("超时 Past SLA by stage", [(f"max by (stage) (baobei_approvals_past_sla{{{NS}}})", "{{stage}}")])],
        [timeseries("SLA 违约与升级 Breaches and escalations", [
            (f"sum(increase(baobei_approval_sla_breaches_total{{{NS}}}[$__rate_interval]))", "SLA breaches"),
            (f"sum(increase(baobei_approval_escalations_total{{{NS}}}[$__rate_interval]))", "escalations")]),
         timeseries("决定 Decisions by action and channel", [
             (f"sum by (action, channel) (increase(baobei_approval_decisions_total{{{NS}}}[$__rate_interval]))",
              "{{action}} · {{channel}}")])],
        [timeseries("保护期到期 Protection periods ending", [
            (f"max by (within) (baobei_protection_expiring{{{NS}}})", "within {{within}}")])],
    ], ["approvals"])


def notifications() -> dict[str, Any]:
    return dashboard("baobei-notifications", "Baobei · 通知 Notifications", [
        [stat("死信 Dead letters", f"max(baobei_notify_dead_letters{{{NS}}})", red_above=1),
         stat("待投递 Open deliveries",
              f'max(sum by (pod) (baobei_notify_deliveries{{{NS}, status!="dead"}}))'),
         stat("Webhook 失败 failures (1h)", f"sum(increase(baobei_webhook_failures_total{{{NS}}}[1h]))", red_above=1)],
        [timeseries("投递尝试 Attempts by channel and result", [
            (f"sum by (channel, result) (rate(baobei_notify_delivery_attempts_total{{{NS}}}[$__rate_interval]))",
             "{{channel}} · {{result}}")], unit="ops"),
         timeseries("完成 Finished by channel and status", [
             (f"sum by (channel, status) (increase(baobei_notify_deliveries_finished_total{{{NS}}}[$__rate_interval]))",
              "{{channel}} · {{status}}")])],
        [timeseries("发送 Sent by channel", [
            (f"sum by (channel) (increase(baobei_notifications_sent_total{{{NS}}}[$__rate_interval]))",
             "{{channel}}")])],
        [timeseries("未完成与死信 Open and dead by channel", [
            (f"max by (channel, status) (baobei_notify_deliveries{{{NS}}})", "{{channel}} · {{status}}")]),
         timeseries("Webhook 失败 failures", [
             (f"sum by (kind) (increase(baobei_webhook_failures_total{{{NS}}}[$__rate_interval]))", "{{kind}}")])],
    ], ["notifications"])


def workers() -> dict[str, Any]:
    by_q = "namespace, task_queue, worker_type"
    return dashboard("baobei-workers", "Baobei · Temporal 工作者 Workers", [
        [timeseries("任务槽占用 Task slot use", [
            (f"sum by ({by_q}) (temporal_worker_task_slots_used{{{NS}}}) / (sum by ({by_q}) "
             f"(temporal_worker_task_slots_used{{{NS}}}) + sum by ({by_q}) "
             f"(temporal_worker_task_slots_available{{{NS}}}))",
             "{{task_queue}} · {{worker_type}}")], unit="percentunit"),
         timeseries("调度到开始 Schedule-to-start p95", [
             (p95("temporal_workflow_task_schedule_to_start_latency_seconds", "task_queue"),
              "workflow · {{task_queue}}"),
             (p95("temporal_activity_schedule_to_start_latency_seconds", "task_queue"),
              "activity · {{task_queue}}"),
         ], unit="s")],
        [timeseries("活动延迟 Activity latency p95 by type", [
            (p95("temporal_activity_execution_latency_seconds", "activity_type"), "{{activity_type}}"),
            (p95("temporal_local_activity_execution_latency_seconds", "activity_type"), "local · {{activity_type}}"),
        ], unit="s"),
         timeseries("活动失败 Activity failures by type", [
             (f"sum by (activity_type) (rate(temporal_activity_execution_failed_total{{{NS}}}[$__rate_interval]))",
              "{{activity_type}}"),
             (f"sum by (activity_type) (rate(temporal_local_activity_execution_failed_total{{{NS}}}"
              "[$__rate_interval]))", "local · {{activity_type}}"),
         ], unit="ops")],
        [timeseries("工作流任务延迟 Workflow task latency p95", [
            (p95("temporal_workflow_task_execution_latency_seconds", "workflow_type"), "{{workflow_type}}")], unit="s"),
         timeseries("粘性缓存 Sticky cache size", [
             (f"sum by (task_queue) (temporal_sticky_cache_size{{{NS}}})", "{{task_queue}}")])],
    ], ["workers", "temporal"])


DASHBOARDS = {"overview": overview, "approvals": approvals, "notifications": notifications, "workers": workers}


def render() -> dict[str, str]:
    return {f"baobei-{name}.json": json.dumps(build(), ensure_ascii=False, indent=2) + "\n"
            for name, build in DASHBOARDS.items()}


def main(argv: list[str]) -> int:
    files = render()
    if "--check" in argv:
        stale = [n for n, text in files.items() if not (OUT / n).is_file() or (OUT / n).read_text() != text]
        for name in stale:
            print(f"{OUT / name} is out of date: run python -m cli.tools.dashboards")
        return 1 if stale else 0
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
