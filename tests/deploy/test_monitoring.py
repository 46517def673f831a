"""The monitoring component (deploy/k8s/components/monitoring, off by default): it renders on top
of the prod overlay and validates (Kubernetes objects strictly, Prometheus Operator objects by
our checks); the alert rules pass ``promtool check rules`` and their unit tests
(``promtool test rules``); every alert has a runbook in docs/runbook.md and a line in the README;
the Grafana dashboards validate against the schema of the version they declare, are what
cli.tools.dashboards generates, and query only series Baobei exports."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from prometheus_client import REGISTRY

from baobei.core.db import make_engine
from baobei.core.migrations import upgrade
from cli.tools import dashboards, manifests, promtool
from cli.tools.manifests import OVERLAYS, crd_problems, render_target, schema_errors

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = ROOT / "deploy" / "k8s" / "components" / "monitoring"
SCHEMAS = {39: Path(__file__).parent / "grafana_dashboard.schema.json"}
Obj = dict[str, Any]
# The Temporal SDK's series on a worker's page (tests/e2e/test_metrics_e2e.py sees them live).
SDK_SERIES = {
    "temporal_worker_task_slots_used", "temporal_worker_task_slots_available", "temporal_sticky_cache_size",
    "temporal_workflow_task_schedule_to_start_latency_seconds", "temporal_activity_schedule_to_start_latency_seconds",
    "temporal_activity_execution_latency_seconds", "temporal_activity_execution_failed_total",
    "temporal_workflow_task_execution_latency_seconds", "temporal_local_activity_execution_latency_seconds",
    "temporal_local_activity_execution_failed_total",
}


@cache
def rendered() -> tuple[Obj, ...]:
    return tuple(render_target("prod+monitoring"))


def objs() -> list[Obj]:
    return copy.deepcopy(list(rendered()))


def alerts() -> list[Obj]:
    rule = yaml.safe_load((COMPONENT / "prometheus-rule.yaml").read_text())
    return [r for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]


def test_alert_rules_pass_promtool_check_and_unit_tests() -> None:
    tool = promtool.find()
    if tool is None:
        try:
            tool = promtool.ensure()  # Debian's prometheus package; CI installs it the same way
        except (SystemExit, OSError) as err:
            pytest.skip(f"promtool cannot be installed here ({err}); .ci/run installs it")
    code, output = promtool.check(tool)
    assert code == 0, output
    assert "SUCCESS: 7 rules found" in output and output.count("SUCCESS") == 2, output
    tested = set(re.findall(r"alertname: (\w+)", (ROOT / "tests" / "deploy" / "alerts.test.yaml").read_text()))
    assert {a["alert"] for a in alerts()} <= tested, "an alert without a promtool unit test"


def test_every_alert_has_a_runbook_and_a_line_in_the_readme() -> None:
    runbook = (ROOT / "docs" / "runbook.md").read_text()
    headings = {h.strip().lower() for h in re.findall(r"^## (\w+)", runbook, flags=re.M)}
    readme = (ROOT / "README.md").read_text()
    names = [a["alert"] for a in alerts()]
    # The six kinds the issue names: approvals past SLA, dead letters growing, error rate, worker
    # task-slot saturation, schedule-to-start latency, a service down.
    assert {"BaobeiApprovalsPastSla", "BaobeiDeadLettersGrowing", "BaobeiHttpErrorRate",
            "BaobeiWorkerSlotsSaturated", "BaobeiScheduleToStartLatencyHigh", "BaobeiComponentDown"} <= set(names)
    for alert in alerts():
        anchor = alert["annotations"]["runbook_url"].split("#", 1)[1]
        assert anchor == alert["alert"].lower() and anchor in headings, f"{alert['alert']}: no runbook section"
        assert f"`{alert['alert']}`" in readme, f"{alert['alert']} not in the README's alert list"


def test_monitoring_is_off_by_default_and_on_with_the_component() -> None:
    for overlay in OVERLAYS:
        (cm,) = [o for o in render_target(overlay) if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(
            "baobei-config")]
        assert cm["data"]["BAOBEI_METRICS_PORT"] == "0"
        assert not any(o["kind"] in manifests.OPERATOR_KINDS for o in render_target(overlay))
    objects = objs()
    plain = [o for o in objects if o["kind"] not in manifests.OPERATOR_KINDS]
    assert schema_errors(plain) == [] and crd_problems(objects) == []
    (cm,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("baobei-config")]
    assert cm["data"]["BAOBEI_METRICS_PORT"] == "9464"
    deployments = [o for o in objects if o["kind"] == "Deployment"
                   and o["metadata"]["labels"].get("app.kubernetes.io/component") in ("service", "worker", "edge")]
    assert {d["metadata"]["name"] for d in deployments} >= {
        "edge", "registry", "approval", "tasks", "reporting", "notify", "worker", "delivery-worker"}
    for dep in deployments:
        ports = dep["spec"]["template"]["spec"]["containers"][0]["ports"]
        assert {"name": "metrics", "containerPort": 9464} in ports, dep["metadata"]["name"]
    (monitor,) = [o for o in objects if o["kind"] == "PodMonitor"]
    assert monitor["metadata"]["namespace"] == "baobei" and monitor["spec"]["jobLabel"] == "app.kubernetes.io/name"
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "metrics-ingress"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 9464}]
    # `baobei status` in the edge pod reads approval's and notify's gauges through their Services.
    for svc in ("approval", "notify"):
        (service,) = [o for o in objects if o["kind"] == "Service" and o["metadata"]["name"] == svc]
        assert {"name": "metrics", "port": 9464, "targetPort": "metrics"} in service["spec"]["ports"]
    (egress,) = [o for o in objects if o["kind"] == "NetworkPolicy" and o["metadata"]["name"] == "edge-egress-metrics"]
    assert egress["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 9464}]
    (boards,) = [o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "baobei-dashboards"]
    assert boards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert set(boards["data"]) == {f"baobei-{n}.json" for n in ("overview", "approvals", "notifications", "workers")}


def test_operator_object_checks_catch_mistakes() -> None:
    objects = objs()
    for o in objects:
        if o["kind"] == "Deployment" and o["metadata"]["name"] == "notify":
            o["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"name": "grpc", "containerPort": 50065}]
        if o["kind"] == "PrometheusRule":
            del o["spec"]["groups"][0]["rules"][0]["annotations"]["runbook_url"]
    problems = crd_problems(objects)
    assert any("Deployment/notify has no port metrics" in p for p in problems), problems
    assert any("BaobeiApprovalsPastSla" in p and "runbook_url" in p for p in problems), problems


def _dashboards() -> dict[str, Obj]:
    return {p.name: json.loads(p.read_text()) for p in sorted((COMPONENT / "dashboards").glob("*.json"))}


def test_dashboards_validate_against_the_schema_of_their_version() -> None:
    boards = _dashboards()
    assert set(boards) == {f"baobei-{n}.json" for n in ("overview", "approvals", "notifications", "workers")}
    assert dashboards.main(["--check"]) == 0, "dashboards differ from cli/tools/dashboards.py: regenerate them"
    for name, board in boards.items():
        schema = json.loads(SCHEMAS[board["schemaVersion"]].read_text())
        jsonschema.validate(board, schema)
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
        variables = {v["name"] for v in board["templating"]["list"]}
        for panel in board["panels"]:
            assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24, f"{name}: {panel['title']} too wide"
            uses = re.findall(r"\$\{?(\w+)", json.dumps(panel))
            assert set(uses) - {"__rate_interval", "__auto"} <= variables, f"{name}: {panel['title']}: {uses}"
    # A broken board fails the schema.
    broken = copy.deepcopy(boards["baobei-overview.json"])
    del broken["panels"][0]["gridPos"]["w"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, json.loads(SCHEMAS[39].read_text()))


def exported_series(tmp_path: Path) -> set[str]:
    """Every family Baobei exports: the counters and histograms registered at import, and what the
    scrape-time collectors yield on freshly migrated databases."""
    from services.approval import metrics as approval_metrics
    from services.notify import metrics as notify_metrics
    from services.registry import metrics as registry_metrics

    names = {m.name for m in REGISTRY.collect()}
    families: list[Any] = []
    for service, collect in (("approval", approval_metrics.waiting_families),
                             ("notify", notify_metrics.open_families),
                             ("registry", registry_metrics.protection_families)):
        url = f"sqlite:///{tmp_path / service}.db"
        upgrade(service, url)
        engine = make_engine(url)
        families += list(collect(engine))
        engine.dispose()
    names |= {f.name for f in families}
    import edge.metrics  # noqa: F401 - registers the HTTP series

    names |= {m.name for m in REGISTRY.collect()}
    return names


def test_dashboards_and_alerts_query_only_exported_series(tmp_path: Path) -> None:
    known = exported_series(tmp_path) | SDK_SERIES | {"up"}
    exprs = [t["expr"] for b in _dashboards().values() for p in b["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in alerts()]
    exprs += [v["definition"] for b in _dashboards().values() for v in b["templating"]["list"] if v.get("definition")]
    for expr in exprs:
        for name in re.findall(r"\b((?:baobei|temporal)_[a-z_]+|up)\b(?=\s*[{\[)(,])", expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            base_total = base.removesuffix("_total")
            assert name in known or base in known or base_total in known, f"{name} is not exported ({expr})"


def test_dashboard_queries_parse_as_promql(tmp_path: Path) -> None:
    """Each panel's query, with Grafana's variables filled in, is a valid PromQL expression: promtool
    checks them as recording rules."""
    tool = promtool.find()
    if tool is None:
        pytest.skip("promtool not installed (test_alert_rules_pass_promtool_check_and_unit_tests installs it)")
    exprs = [t["expr"] for b in _dashboards().values() for p in b["panels"] for t in p.get("targets", [])]
    filled = [e.replace("$__rate_interval", "5m").replace("$namespace", ".*") for e in exprs]
    rules = {"groups": [{"name": "dashboards", "rules": [
        {"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(filled)]}]}
    path = tmp_path / "dashboards.rules.yaml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True))
    proc = subprocess.run([tool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(exprs)} rules found" in proc.stdout
