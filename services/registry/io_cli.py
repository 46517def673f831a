"""``baobei import`` / ``baobei export``: the registry's Excel import and export from the shell,
talking to the registry over gRPC (``BAOBEI_REGISTRY_ADDR``) like the other admin commands."""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import grpc

from baobei.core.grpc_client import channel, metadata, read_failure
from baobei.core.settings import Settings
from baobei.registry.v1 import directory_service_pb2 as directory_pb
from baobei.registry.v1 import directory_service_pb2_grpc as directory_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from baobei.sheets import projects as sheets
from baobei.sheets import render

# Files at least this large are imported as a registry job, with a progress bar.
BACKGROUND_BYTES = 256 * 1024
POLL_SECONDS = 0.5


def progress_bar(done: int, total: int, *, label: str, width: int = 30) -> str:
    """``检查 [#########.....] 6,000/10,000 行`` (an empty bar while the total is unknown)."""
    filled = width * done // total if total > 0 else 0
    return f"{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} 行"


def import_file(settings: Settings, path: Path, *, form_key: str, dry_run: bool, skip_invalid: bool,
                actor_id: str = "admin",
                on_imported: Callable[[list[tuple[str, str, str, str]]], object] | None = None,
                background: bool | None = None, out: TextIO | None = None) -> int:
    """Import a sheet: at once, or (``background``; by default for large files) as a registry
    job followed with a progress bar. Either way the same summary and row errors are printed."""
    stream = out if out is not None else sys.stdout
    data = path.read_bytes()
    ch = channel(settings.addr("registry"))
    try:
        stub = pb_grpc.RegistryServiceStub(ch)
        try:
            failed = False
            if background if background is not None else len(data) >= BACKGROUND_BYTES:
                resp, failed = _run_job(stub, stream, data, path.name, form_key=form_key, dry_run=dry_run,
                                        skip_invalid=skip_invalid, actor_id=actor_id)
            else:
                resp = stub.ImportProjects(pb.ImportProjectsRequest(
                    request_id=uuid.uuid4().hex, form_key=form_key, actor_id=actor_id, actor_is_admin=True,
                    data=data, filename=path.name, dry_run=dry_run, skip_invalid=skip_invalid,
                ), timeout=600, metadata=metadata(locale="zh"))
        except grpc.RpcError as err:
            failure = read_failure(err)
            print(f"导入失败：{failure.message}", file=stream)
            for v in failure.violations:
                print(f"  {v.field}: {v.zh}", file=stream)
            return 1
        mode = "试运行" if resp.dry_run else "导入"
        print(f"{mode}：共 {resp.rows} 行，新建 {resp.created}，已存在 {resp.existing}，有误 {resp.invalid}"
              + (f"，修改 {resp.updated}，未变 {resp.unchanged}" if resp.updated or resp.unchanged else ""),
              file=stream)
        print_changes(resp, stream)
        for e in resp.errors:
            print(f"  第 {e.row} 行 {e.column or e.field}：{e.message}", file=stream)
        if resp.project_ids and not resp.dry_run and on_imported is not None:
            found = [stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=30).project
                     for pid in resp.project_ids]
            # (id, owner, code, name): the code and name label the workflow in the Temporal UI.
            owners = [(p.id, p.owner_id, p.code, p.name) for p in found]
            # The caller starts the projects' lifecycles: they record project.created, so reporting
            # sees the rows at once.
            on_imported(owners)
        return 0 if not failed and (not resp.errors or skip_invalid) else 1
    finally:
        ch.close()


def _run_job(stub: pb_grpc.RegistryServiceStub, stream: TextIO, data: bytes, filename: str, *, form_key: str,
             dry_run: bool, skip_invalid: bool, actor_id: str) -> tuple[pb.ImportProjectsResponse, bool]:
    """Start a job and draw its progress until it ends; its outcome as a synchronous import's
    answer, and whether it failed (the reason printed)."""
    job = stub.StartImportJob(pb.StartImportJobRequest(
        request_id=uuid.uuid4().hex, form_key=form_key, actor_id=actor_id, actor_is_admin=True, data=data,
        filename=filename, dry_run=dry_run, skip_invalid=skip_invalid,
    ), timeout=600, metadata=metadata(locale="zh")).job
    viewer = pb.Viewer(user_id=actor_id, is_admin=True)
    tty = stream.isatty()
    last = ""
    while True:
        if not job.rows_total and job.status in ("queued", "running"):
            line = "读取表格…"
        elif job.rows_total and job.rows_checked < job.rows_total:
            line = progress_bar(job.rows_checked, job.rows_total, label="检查")
        else:
            line = progress_bar(job.rows_done, job.rows_total, label="写入" if not dry_run else "检查")
        if line != last:
            # On a terminal the bar redraws in place; in a log, one line per change.
            print(("\r" + line) if tty else line, end="" if tty else "\n", file=stream, flush=True)
            last = line
        if job.status in ("done", "failed"):
            break
        time.sleep(POLL_SECONDS)
        job = stub.GetImportJob(pb.GetImportJobRequest(job_id=job.id, viewer=viewer), timeout=30,
                                metadata=metadata(locale="zh")).job
    if tty:
        print(file=stream)
    if job.status == "failed":
        print(f"导入失败：{job.reason}", file=stream)
    if job.project_ids:  # the caller starts their lifecycles (a failed job's stored chunks too)
        stub.MarkImportJobLifecycles(pb.MarkImportJobLifecyclesRequest(job_id=job.id, viewer=viewer), timeout=30)
    return pb.ImportProjectsResponse(
        rows=job.rows_total, created=job.created, existing=job.existing,
        invalid=job.invalid, errors=job.errors, project_ids=job.project_ids, dry_run=job.dry_run,
        updated=job.updated, unchanged=job.unchanged, changes=job.changes, changes_total=job.changes_total,
        updated_ids=job.updated_ids,
    ), job.status == "failed"


def print_changes(resp: pb.ImportProjectsResponse, stream: TextIO | None = None) -> None:
    """Every cell read leniently and every edit of an existing project, by row: nothing is
    guessed silently."""
    normalised = [c for c in resp.changes if c.kind != "edit"]
    edits = [c for c in resp.changes if c.kind == "edit"]
    if normalised:
        print(f"按规则读取的单元格（{len(normalised)}）：", file=stream)
        for c in normalised:
            print(f"  第 {c.row} 行 {c.message}", file=stream)
    if edits:
        print(f"{'将修改' if resp.dry_run else '已修改'}的项目字段（{len(edits)}）：", file=stream)
        for c in edits:
            print(f"  第 {c.row} 行 {c.message}", file=stream)
    if resp.changes_total > len(resp.changes):
        print(f"  （另有 {resp.changes_total - len(resp.changes)} 处未列出）", file=stream)


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
