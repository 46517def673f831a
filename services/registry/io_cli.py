"""``baobei import`` / ``baobei export``: the registry's Excel import and export from the shell,
talking to the registry over gRPC (``BAOBEI_REGISTRY_ADDR``) like the other admin commands."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import json_format

from baobei.core.grpc_client import channel, metadata, read_failure
from baobei.core.settings import Settings
from baobei.core.spreadsheet import safe_row
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc

CORE = [("code", "项目编号"), ("name", "项目名称"), ("status", "状态"), ("customer_name", "客户名称"),
        ("customer_uscc", "统一社会信用代码"), ("amount", "金额"), ("region", "区域"), ("business_line", "业务线"),
        ("owner_id", "负责人"), ("department_id", "部门"), ("form_key", "表单"), ("version", "版本")]


def import_file(settings: Settings, path: Path, *, form_key: str, dry_run: bool, skip_invalid: bool,
                actor_id: str = "admin",
                on_imported: Callable[[list[tuple[str, str, str, str]]], object] | None = None) -> int:
    ch = channel(settings.addr("registry"))
    try:
        stub = pb_grpc.RegistryServiceStub(ch)
        req = pb.ImportProjectsRequest(
            request_id=uuid.uuid4().hex, form_key=form_key, actor_id=actor_id, actor_is_admin=True,
            data=path.read_bytes(), filename=path.name, dry_run=dry_run, skip_invalid=skip_invalid,
        )
        try:
            resp = stub.ImportProjects(req, timeout=600, metadata=metadata(locale="zh"))
        except grpc.RpcError as err:
            failure = read_failure(err)
            print(f"导入失败：{failure.message}")
            for v in failure.violations:
                print(f"  {v.field}: {v.zh}")
            return 1
        mode = "试运行" if resp.dry_run else "导入"
        print(f"{mode}：共 {resp.rows} 行，新建 {resp.created}，已存在 {resp.existing}，有误 {resp.invalid}"
              + (f"，修改 {resp.updated}，未变 {resp.unchanged}" if resp.updated or resp.unchanged else ""))
        print_changes(resp)
        for e in resp.errors:
            print(f"  第 {e.row} 行 {e.column or e.field}：{e.message}")
        if resp.project_ids and not resp.dry_run and on_imported is not None:
            found = [stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=30).project
                     for pid in resp.project_ids]
            # (id, owner, code, name): the code and name label the workflow in the Temporal UI.
            owners = [(p.id, p.owner_id, p.code, p.name) for p in found]
            # The caller starts the projects' lifecycles: they record project.created, so reporting
            # sees the rows at once.
            on_imported(owners)
        return 0 if not resp.errors or skip_invalid else 1
    finally:
        ch.close()


def print_changes(resp: pb.ImportProjectsResponse) -> None:
    """Every cell read leniently and every edit of an existing project, by row: nothing is
    guessed silently."""
    normalised = [c for c in resp.changes if c.kind != "edit"]
    edits = [c for c in resp.changes if c.kind == "edit"]
    if normalised:
        print(f"按规则读取的单元格（{len(normalised)}）：")
        for c in normalised:
            print(f"  第 {c.row} 行 {c.message}")
    if edits:
        print(f"{'将修改' if resp.dry_run else '已修改'}的项目字段（{len(edits)}）：")
        for c in edits:
            print(f"  第 {c.row} 行 {c.message}")
    if resp.changes_total > len(resp.changes):
        print(f"  （另有 {resp.changes_total - len(resp.changes)} 处未列出）")


def export_rows(stub: pb_grpc.RegistryServiceStub, viewer: pb.Viewer | None) -> tuple[list[str], list[list[Any]]]:
    projects: list[pb.Project] = []
    cursor = ""
    while True:
        req = pb.ListProjectsRequest(limit=100, cursor=cursor)
        if viewer is not None:
            req.viewer.CopyFrom(viewer)
        resp = stub.ListProjects(req, timeout=60)
        projects.extend(resp.items)
        cursor = resp.next_cursor
        if not cursor:
            break
    keys: list[str] = []
    values = []
    for p in projects:
        fields = json_format.MessageToDict(p.fields)
        values.append(fields)
        keys.extend(k for k in fields if k not in keys)
    header = [label for _, label in CORE] + keys
    rows = []
    for p, fields in zip(projects, values, strict=True):
        flat = {"code": p.code, "name": p.name, "status": pb.ProjectStatus.Name(p.status).removeprefix(
            "PROJECT_STATUS_").lower(), "customer_name": p.customer.name, "customer_uscc": p.customer.uscc,
            "amount": p.amount, "region": p.region, "business_line": p.business_line, "owner_id": p.owner_id,
            "department_id": p.department_id, "form_key": p.form_key,
            "version": p.version}
        rows.append([flat[k] for k, _ in CORE] + [_cell(fields.get(k, "")) for k in keys])
    return header, rows


def _cell(v: Any) -> Any:
    if isinstance(v, list):
        return "、".join(map(str, v))
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def export_file(settings: Settings, out: Path, *, user_id: str = "") -> int:
    """Every project (or, with ``user_id``, what that user may see, fields filtered by their roles)."""
    ch = channel(settings.addr("registry"))
    try:
        stub = pb_grpc.RegistryServiceStub(ch)
        viewer = None
        if user_id:
            user = stub.GetUser(pb.GetUserRequest(user_id=user_id), timeout=10).user
            viewer = pb.Viewer(user_id=user.id, roles=list(user.roles), is_admin="admin" in user.roles)
        header, rows = export_rows(stub, viewer)
    finally:
        ch.close()
    if out.suffix.lower() == ".csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(safe_row(header))
        writer.writerows(safe_row(r) for r in rows)
        out.write_bytes(("\ufeff" + buf.getvalue()).encode())
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("项目报备")
        ws.append(safe_row(header))
        for row in rows:
            ws.append(safe_row(row))
        wb.save(out)
    print(f"已导出 {len(rows)} 个项目到 {out}")
    return 0
