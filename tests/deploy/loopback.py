"""Turn rendered manifests into processes on loopback, wired exactly as the manifests wire them:
each container's command, its environment from ``env`` / ``envFrom`` (ConfigMaps and Secrets of the
render), with only what cannot exist off-cluster replaced: Service DNS names by loopback ports,
the datastores' Secrets by the test's databases, each pod's emptyDir by a temporary directory."""

from __future__ import annotations

import base64
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Obj = dict[str, Any]
VENV_BIN = Path(sys.executable).parent


@dataclass
class Proc:
    name: str  # e.g. "registry/migrate", "worker-1/worker"
    argv: list[str]
    env: dict[str, str]
    data_dir: Path | None = None


@dataclass
class Wiring:
    """What replaces the in-cluster things: ``addr`` maps ``host:port`` → ``127.0.0.1:port``;
    ``secrets`` maps a Secret's name *prefix* (generated names carry a hash) to its data."""

    addr: dict[str, str]
    secrets: dict[str, dict[str, str]]
    paths: dict[str, Path] = field(default_factory=dict)  # mountPath → directory (per process)


def by_kind(objs: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objs if o.get("kind") == kind]


def named(objs: list[Obj], kind: str, name: str) -> Obj:
    for o in by_kind(objs, kind):
        if o["metadata"]["name"] == name:
            return o
    raise KeyError(f"{kind}/{name}")


def _data(obj: Obj) -> dict[str, str]:
    if obj["kind"] == "Secret":
        out = {k: base64.b64decode(v).decode() for k, v in (obj.get("data") or {}).items()}
        out.update(obj.get("stringData") or {})
        return out
    return dict(obj.get("data") or {})


def source(objs: list[Obj], kind: str, name: str, wiring: Wiring) -> dict[str, str] | None:
    for prefix, data in wiring.secrets.items():
        if kind == "Secret" and re.fullmatch(rf"{re.escape(prefix)}(-[a-z0-9]{{10}})?", name):
            return data
    try:
        return _data(named(objs, kind, name))
    except KeyError:
        return None


def container_env(objs: list[Obj], container: Obj, wiring: Wiring) -> dict[str, str]:
    """The container's environment as the kubelet would build it (envFrom, then env)."""
    env: dict[str, str] = {}
    for ref in container.get("envFrom", []):
        kind, key = ("ConfigMap", "configMapRef") if "configMapRef" in ref else ("Secret", "secretRef")
        data = source(objs, kind, ref[key]["name"], wiring)
        if data is None:
            if ref[key].get("optional"):
                continue
            raise KeyError(f"{kind} {ref[key]['name']} missing")
        env.update(data)
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
            continue
        vf = item["valueFrom"]
        kind, key = ("ConfigMap", "configMapKeyRef") if "configMapKeyRef" in vf else ("Secret", "secretKeyRef")
        data = source(objs, kind, vf[key]["name"], wiring)
        if data is None or vf[key]["key"] not in data:
            raise KeyError(f"{kind} {vf[key]['name']} key {vf[key]['key']} missing")
        env[item["name"]] = data[vf[key]["key"]]
    return env


def localise(env: dict[str, str], wiring: Wiring) -> dict[str, str]:
    out = {}
    for key, value in env.items():
        value = wiring.addr.get(value, value)
        for mount, local in wiring.paths.items():
            if value == mount or value.startswith(mount + "/"):
                value = str(local) + value[len(mount):]
        out[key] = value
    if out.get("BAOBEI_HOST") == "0.0.0.0":
        out["BAOBEI_HOST"] = "127.0.0.1"  # loopback only, never all interfaces on this machine
    return out


def command(container: Obj) -> list[str]:
    argv = [*container.get("command", []), *container.get("args", [])]
    assert argv and argv[0] == "baobei", f"{container['name']}: command must start with baobei: {argv}"
    return [str(VENV_BIN / "baobei"), *argv[1:]]


def base_env() -> dict[str, str]:
    """The process environment outside the container's own: no BAOBEI_* from the test runner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOBEI_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def pod_procs(objs: list[Obj], workload: Obj, wiring: Wiring, instance: str, tmp: Path) -> list[Proc]:
    """Init containers then main containers of one replica of ``workload``."""
    spec = workload["spec"]["template"]["spec"]
    mounts: dict[str, Path] = {}
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        for mount in container.get("volumeMounts", []):
            local = tmp / instance / mount["name"]
            local.mkdir(parents=True, exist_ok=True)
            mounts[mount["mountPath"]] = local
    procs = []
    for container in [*spec.get("initContainers", []), *spec["containers"]]:
        pod_wiring = Wiring(addr=wiring.addr, secrets=wiring.secrets, paths=mounts)
        env = localise(container_env(objs, container, wiring), pod_wiring)
        data = Path(env["BAOBEI_DATA_DIR"]) if "BAOBEI_DATA_DIR" in env else None
        procs.append(Proc(f"{instance}/{container['name']}", command(container), {**base_env(), **env}, data))
    return procs
