"""``baobei import`` / ``baobei export``: the registry's Excel import and export from the shell,
talking to the registry over gRPC (``BAOBEI_REGISTRY_ADDR``) like the other admin commands."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc

from baobei.core.grpc_client import channel, metadata, read_failure
from baobei.core.settings import Settings
from baobei.registry.v1 import directory_service_pb2 as directory_pb
from baobei.registry.v1 import directory_service_pb2_grpc as directory_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from baobei.sheets import projects as sheets
from baobei.sheets import render


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


def _projects(stub: pb_grpc.RegistryServiceStub, viewer: pb.Viewer | None) -> list[pb.Project]:
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
            return projects


def export_file(settings: Settings, out: Path, *, user_id: str = "", locale: str = "zh") -> int:
    """Every project (or, with ``user_id``, what that user may see, fields filtered by their roles),
    written as the API's export writes it (``baobei.sheets``)."""
    ch = channel(settings.addr("registry"))
    try:
        stub = pb_grpc.RegistryServiceStub(ch)
        viewer = None
        exporter = "baobei export"
        if user_id:
            user = stub.GetUser(pb.GetUserRequest(user_id=user_id), timeout=10).user
            viewer = pb.Viewer(user_id=user.id, roles=list(user.roles), is_admin="admin" in user.roles)
            exporter = f"{user.name}（{user.id}）"
        projects = _projects(stub, viewer)
        forms = {(k, v): stub.GetForm(pb.GetFormRequest(key=k, version=v), timeout=30).form
                 for k, v in sorted({(p.form_key, p.form_version) for p in projects})}
        users = stub.ListUsers(pb.ListUsersRequest(), timeout=60).users
        tree = directory_grpc.DirectoryServiceStub(ch).GetOrgTree(
            directory_pb.GetOrgTreeRequest(viewer=viewer or pb.Viewer(user_id="admin", is_admin=True)), timeout=60)
    finally:
        ch.close()
    directory = sheets.Directory(users=sheets.display_names((u.id, u.name) for u in users),
                                 departments=sheets.display_names((d.id, d.name) for d in tree.departments))
    if out.suffix.lower() == ".csv":
        table = sheets.flat_table(projects, forms, directory, locale)
        out.write_bytes(render.csv_bytes([c.header for c in table.columns], table.rows))
    else:
        tables = sheets.project_tables(projects, forms, directory, locale)
        info = sheets.ExportInfo(exported_at=dt.datetime.now(dt.UTC), exported_by=exporter, filters={})
        out.write_bytes(render.xlsx(tables, sheets.notes_table(info, tables, locale)))
    print(f"已导出 {len(projects)} 个项目到 {out}")
    return 0
