"""promtool for the alert rules: Debian's ``prometheus`` package ships it. ``ensure`` installs
the package with apt-get when promtool is missing and we are root (the package's own Prometheus
server is stopped again: only the tool is wanted); ``check`` runs ``promtool check rules`` and
``promtool test rules`` on the PrometheusRule of the monitoring component (its ``spec`` is a
plain rules file) with the unit tests in tests/deploy/alerts.test.yaml. CI runs ``check``.

``python -m cli.tools.promtool [ensure|path|check]``"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from cli.tools import debian

ROOT = Path(__file__).resolve().parents[2]
RULE = ROOT / "deploy" / "k8s" / "components" / "monitoring" / "prometheus-rule.yaml"
TESTS = ROOT / "tests" / "deploy" / "alerts.test.yaml"
PACKAGES = ("prometheus",)


def find() -> str | None:
    env = os.environ.get("BAOBEI_PROMTOOL")
    if env and os.path.exists(env):
        return env
    return shutil.which("promtool")


def _stop_package_server() -> None:
    # The package starts a Prometheus server (port 9090) where an init system runs; we only want
    # the tool, and the tests must find their ports free.
    for cmd in (["service", "prometheus", "stop"], ["systemctl", "stop", "prometheus"]):
        if shutil.which(cmd[0]):
            subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ensure() -> str:
    found = find()
    if found:
        return found
    debian.install(PACKAGES, why="promtool is needed for the alert rules: install Debian's prometheus "
                                 "(or set BAOBEI_PROMTOOL)")
    _stop_package_server()
    found = find()
    if not found:
        raise SystemExit("apt-get installed prometheus but no promtool was found")
    return found


def rules_file(directory: Path) -> Path:
    """The PrometheusRule's spec as a plain Prometheus rules file in ``directory``."""
    rule = yaml.safe_load(RULE.read_text())
    out = directory / "rules.yaml"
    out.write_text(yaml.safe_dump(rule["spec"], allow_unicode=True, sort_keys=False))
    return out


def check(promtool: str) -> tuple[int, str]:
    """``promtool check rules`` then ``promtool test rules``: (exit status, their output)."""
    with tempfile.TemporaryDirectory(prefix="baobei-rules-") as tmp:
        directory = Path(tmp)
        rules = rules_file(directory)
        shutil.copy(TESTS, directory / TESTS.name)
        output = []
        for args in (["check", "rules", str(rules)], ["test", "rules", TESTS.name]):
            proc = subprocess.run([promtool, *args], cwd=directory, capture_output=True, text=True, timeout=120)
            output.append(f"$ promtool {' '.join(args)}\n{proc.stdout}{proc.stderr}")
            if proc.returncode != 0:
                return proc.returncode, "\n".join(output)
        return 0, "\n".join(output)


def main(argv: list[str]) -> int:
    action = argv[0] if argv else "check"
    if action == "path":
        found = find()
        print(found or "")
        return 0 if found else 1
    promtool = ensure()
    if action == "ensure":
        print(promtool)
        return 0
    code, output = check(promtool)
    print(output)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
