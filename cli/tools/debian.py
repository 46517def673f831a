"""Debian packages the project's own scripts install when a tool is missing (Chromium for the
browser tests, promtool for the alert rules): one way to call apt-get, as root, non-interactive,
refreshing the package lists only when the first attempt fails."""

from __future__ import annotations

import os
import shutil
import subprocess


def install(packages: tuple[str, ...], *, why: str) -> None:
    """``apt-get install`` the packages, or exit with ``why`` (what needs them, how to provide them)."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(why)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    if subprocess.call(cmd, env=env, stdout=subprocess.DEVNULL) != 0:
        subprocess.call(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        subprocess.check_call(cmd, env=env, stdout=subprocess.DEVNULL)
