"""The proto breaking-change check catches what it is there for: a copy of proto/ with a field
deleted fails against the release image; proto/ as committed passes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from cli.tools import proto_breaking


def _breaking(buf: Path, module: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(buf), "breaking", str(module), "--against", str(proto_breaking.RELEASE_IMAGE)],
                          capture_output=True, text=True, timeout=120, cwd=module)


def test_committed_protos_do_not_break_the_release() -> None:
    assert proto_breaking.main([]) == 0


def test_a_deleted_field_is_reported(tmp_path: Path) -> None:
    buf = proto_breaking.buf_bin()
    module = tmp_path / "proto"
    shutil.copytree(proto_breaking.PROTO, module, ignore=shutil.ignore_patterns("node_modules", "*.binpb"))
    target = module / "baobei" / "notify" / "v1" / "group_link_service.proto"
    text = target.read_text()
    assert "string task_id = 2;" in text
    target.write_text(text.replace("string task_id = 2;", ""))
    result = _breaking(buf, module)
    assert result.returncode != 0
    assert 'field "2" with name "task_id"' in result.stdout
