"""Imports in chunks and as background jobs (issue 19, speed and progress), against a real
registry server and database: a job's progress and outcome, who may see it, all-or-nothing
across chunks, idempotent re-runs, a job cut off midway resumed by the next start, and bulk
collision checks answering exactly as the row-by-row ones."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
import sqlalchemy as sa
from sqlmodel import Session

from baobei.core.db import make_engine
from baobei.core.migrations import upgrade
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.domain import Customer, Status
from services.registry.domain.import_jobs import JobStatus
from services.registry.models import ImportJobRow, ProjectRow, UserRow
from services.registry.names import block_key, normalise_name
from services.registry.store import conflicts as conflict_store
from services.registry.store import import_jobs as job_store
from services.registry.store.conflicts import ConflictIndex, NewRegistration
from services.registry.store.rows import now as utc_now
from tests.conftest import StartService
from tests.service.test_registry_service import FORM, ORG

ADMIN = pb.Viewer(user_id="admin", is_admin=True)
USCC = "91350100M000100Y43"
HEAD = "行键,项目名称,客户名称,金额,行业,负责人\n"


def sheet(n: int, *, tag: str, bad_row: int = 0, start: int = 0) -> bytes:
    """``n`` good rows (sheet rows 2…), the one at ``bad_row`` (a sheet row) with a bad amount."""
    lines = [HEAD]
    for i in range(start, start + n):
        amount = "abc" if i - start + 2 == bad_row else str(100 + i)
        lines.append(f"{tag}-{i},项目{tag}{i},{tag}客户{i}有限公司,{amount},制造,sales1\n")
    return "".join(lines).encode()


def seeded(svc_channel: grpc.Channel) -> pb_grpc.RegistryServiceStub:
    stub = pb_grpc.RegistryServiceStub(svc_channel)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(FORM, timeout=10)
    return stub


def start_job(stub: pb_grpc.RegistryServiceStub, data: bytes, **kw: bool) -> pb.ImportJob:
    resp = stub.StartImportJob(pb.StartImportJobRequest(
        request_id=f"job-{time.monotonic_ns()}", form_key="standard", actor_id="sales1", actor_is_admin=False,
        data=data, filename="rows.csv", **kw), timeout=30)
    return resp.job


def wait_job(stub: pb_grpc.RegistryServiceStub, job_id: str, viewer: pb.Viewer = ADMIN,
             timeout: float = 120) -> tuple[pb.ImportJob, list[tuple[str, int, int]]]:
    """The finished job, and the (status, rows_checked, rows_done) seen on the way."""
    seen: list[tuple[str, int, int]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetImportJob(pb.GetImportJobRequest(job_id=job_id, viewer=viewer), timeout=10).job
        seen.append((job.status, job.rows_checked, job.rows_done))
        if job.status in ("done", "failed"):
            return job, seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {seen[-3:]}")


def project_count(db_url: str, prefix: str) -> int:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(ProjectRow)
                                    .where(ProjectRow.import_key.like(f"standard:{prefix}%"))).scalar_one())  # type: ignore[union-attr]
    finally:
        engine.dispose()


def test_job_progress_outcome_and_who_sees_it(start_service: StartService, tmp_path: Path) -> None:
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = seeded(svc.channel)
    job = start_job(stub, sheet(1_200, tag="a"))
    assert job.status == "queued" and job.actor_id == "sales1"
    done, seen = wait_job(stub, job.id, viewer=pb.Viewer(user_id="sales1"))
    assert done.status == "done", done.reason
    assert (done.rows_total, done.rows_checked, done.rows_done) == (1_200, 1_200, 1_200)
    assert done.created == 1_200 and done.existing == 0 and done.invalid == 0 and not done.errors
    assert len(set(done.project_ids)) == 1_200 and done.finished_at.seconds > 0
    # Progress only moves forward.
    assert [s[2] for s in seen] == sorted(s[2] for s in seen)
    assert project_count(svc.db_url, "a-") == 1_200
    codes = {stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project.code
             for pid in done.project_ids[:3] + done.project_ids[-3:]}
    assert len(codes) == 6
    # Only the importer and admins see a job.
    for other in (pb.Viewer(user_id="sales2"), pb.Viewer(user_id="mgr_sh", roles=["manager"])):
        with pytest.raises(grpc.RpcError) as err:
            stub.GetImportJob(pb.GetImportJobRequest(job_id=job.id, viewer=other), timeout=10)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    marked = stub.MarkImportJobLifecycles(pb.MarkImportJobLifecyclesRequest(job_id=job.id, viewer=ADMIN),
                                          timeout=10).job
    assert marked.lifecycles_started


def test_job_reads_cells_leniently_and_edits_coded_rows(start_service: StartService, tmp_path: Path) -> None:
    """A job does what a synchronous import does with a typed sheet (owners by name, amounts
    with separators: each reading reported) and with an exported one (rows with a 项目编号 edit
    their draft project, or count as unchanged), and carries the counts and changes."""
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = seeded(svc.channel)
    typed = HEAD.replace("负责人", "负责人,状态") + "".join(
        f'l-{i},项目l{i},l客户{i}有限公司,"1,{i}00.00",制造,销售一,草稿\n' for i in range(3))
    job, _ = wait_job(stub, start_job(stub, typed.encode()).id)
    assert job.status == "done", job.reason
    assert (job.created, job.updated, job.unchanged) == (3, 0, 0)
    # Per row: the amount's separators and the owner given by name.
    assert job.changes_total == 6 and len(job.changes) == 6
    assert {(c.row, c.field, c.kind) for c in job.changes} >= {(2, "amount", "normalised"),
                                                              (2, "owner_id", "normalised")}
    assert "1,000.00" in next(c.message for c in job.changes if c.row == 2 and c.field == "amount")
    projects = [stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project for pid in job.project_ids]
    assert [p.owner_id for p in projects] == ["sales1"] * 3
    coded = "项目编号,项目名称,客户名称,金额,行业\n" + "".join(
        f"{p.code},{p.name},{p.customer.name},{2500 if i == 0 else p.amount},制造\n" for i, p in enumerate(projects))
    edit, _ = wait_job(stub, start_job(stub, coded.encode()).id)
    assert edit.status == "done", edit.reason
    assert (edit.created, edit.existing, edit.invalid, edit.updated, edit.unchanged) == (0, 0, 0, 1, 2)
    assert (edit.rows_total, edit.rows_done) == (3, 3)
    assert list(edit.updated_ids) == [projects[0].id] and edit.changes_total == 1
    assert [(c.row, c.field, c.kind, c.after) for c in edit.changes] == [(2, "amount", "edit", "2500.00")]
    assert stub.GetProject(pb.GetProjectRequest(project_id=projects[0].id), timeout=10).project.amount == "2500.00"
    # Run again: every coded row now equals its project.
    again, _ = wait_job(stub, start_job(stub, coded.encode()).id)
    assert (again.status, again.updated, again.unchanged, again.changes_total) == ("done", 0, 3, 0)


def test_bad_row_fails_the_whole_job_across_chunks(start_service: StartService, tmp_path: Path) -> None:
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = seeded(svc.channel)
    job, _ = wait_job(stub, start_job(stub, sheet(1_100, tag="b", bad_row=1_050)).id)
    assert job.status == "failed" and "未导入任何行" in job.reason
    assert job.invalid == 1 and job.created == 0 and not job.project_ids
    assert [(e.row, e.field) for e in job.errors] == [(1_050, "amount")]
    assert project_count(svc.db_url, "b-") == 0
    # The same rows skipping the bad one: the others are stored.
    job, _ = wait_job(stub, start_job(stub, sheet(1_100, tag="b", bad_row=1_050), skip_invalid=True).id)
    assert job.status == "done" and job.created == 1_099 and job.invalid == 1 and job.rows_done == 1_100
    # A dry run stores nothing and reports what would happen.
    job, _ = wait_job(stub, start_job(stub, sheet(10, tag="c"), dry_run=True).id)
    assert job.status == "done" and job.dry_run and job.created == 10 and project_count(svc.db_url, "c-") == 0


def test_sync_import_is_all_or_nothing_across_chunks(start_service: StartService, tmp_path: Path) -> None:
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = seeded(svc.channel)

    def imp(data: bytes, request_id: str) -> pb.ImportProjectsResponse:
        return stub.ImportProjects(pb.ImportProjectsRequest(
            request_id=request_id, form_key="standard", actor_id="sales1", data=data, filename="rows.csv"),
            timeout=120)

    with pytest.raises(grpc.RpcError) as err:
        imp(sheet(1_200, tag="d", bad_row=1_150), "d1")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert project_count(svc.db_url, "d-") == 0
    first = imp(sheet(1_200, tag="d"), "d2")
    assert first.created == 1_200 and len(first.project_ids) == 1_200
    # Idempotent per row key: the same rows again plus 30 new ones.
    again = imp(sheet(1_230, tag="d"), "d3")
    assert (again.created, again.existing) == (30, 1_200)
    assert project_count(svc.db_url, "d-") == 1_230


def test_job_rerun_is_idempotent(start_service: StartService, tmp_path: Path) -> None:
    svc = start_service("registry", attachments_dir=tmp_path)
    stub = seeded(svc.channel)
    first, _ = wait_job(stub, start_job(stub, sheet(600, tag="e")).id)
    second, _ = wait_job(stub, start_job(stub, sheet(650, tag="e")).id)
    assert (first.created, first.existing) == (600, 0)
    assert (second.created, second.existing, second.rows_done) == (50, 600, 650)
    assert project_count(svc.db_url, "e-") == 650


def _queued_job(db_url: str, data: bytes) -> str:
    upgrade("registry", db_url)
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            job = job_store.create_job(session=session, job_id="interrupted1", form_key="standard",
                                       actor_id="sales1", data=data, filename="rows.csv", dry_run=False,
                                       skip_invalid=False)
            session.commit()
        return job.id
    finally:
        engine.dispose()


def test_job_cut_off_midway_is_resumed_by_the_next_start(
    start_service: StartService, make_db_url: Callable[[str], str], tmp_path: Path,
) -> None:
    db_url = make_db_url("registry")
    first = start_service("registry", db_url=db_url, attachments_dir=tmp_path)
    seeded(first.channel)
    first.server.stop(None).wait()
    job_id = _queued_job(db_url, sheet(250, tag="f"))
    # Run it by hand and stop after the first chunk: what a restart in the middle leaves behind.
    engine = make_engine(db_url)
    chunks_seen: list[int] = []

    def stop_after_one() -> bool:
        chunks_seen.append(1)
        return len(chunks_seen) > 1

    # A graceful stop puts it back in the queue after the chunk in progress.
    assert job_store.run_job(engine, job_id, chunk_rows=100, should_stop=stop_after_one) == JobStatus.QUEUED
    with Session(engine) as session:
        row = session.get(ImportJobRow, job_id)
        assert row is not None
        assert (row.status, row.created, len(row.project_ids), row.attempts) == ("queued", 100, 100, 1)
        # What a process killed midway leaves: "running", its heartbeat stopped a while ago.
        row.status, row.updated_at = "running", utc_now() - timedelta(seconds=job_store.STALE_SECONDS + 5)
        session.add(row)
        session.commit()
    engine.dispose()
    assert project_count(db_url, "f-") == 100
    # The next start resumes it: the 100 stored rows are not filed again, the counts carry on.
    svc = start_service("registry", db_url=db_url, attachments_dir=tmp_path)
    stub = pb_grpc.RegistryServiceStub(svc.channel)
    job, _ = wait_job(stub, job_id)
    assert job.status == "done", job.reason
    assert (job.created, job.existing, job.rows_done, job.attempts) == (250, 0, 250, 2)
    assert len(set(job.project_ids)) == 250
    assert project_count(db_url, "f-") == 250


def test_job_with_edits_cut_off_midway_counts_each_edit_once(
    start_service: StartService, make_db_url: Callable[[str], str], tmp_path: Path,
) -> None:
    """The edits of coded rows commit before the first chunk; a resumed job finds them made
    (unchanged on its second check) and keeps counting them as updated, with the changes its
    first check listed."""
    db_url = make_db_url("registry")
    first = start_service("registry", db_url=db_url, attachments_dir=tmp_path)
    stub = seeded(first.channel)
    drafts = (HEAD.replace("负责人", "负责人,状态") + "e-a,项目ea,ea客户有限公司,100,制造,sales1,draft\n"
              "e-b,项目eb,eb客户有限公司,200,制造,sales1,draft\n").encode()
    ids = stub.ImportProjects(pb.ImportProjectsRequest(request_id="drafts", form_key="standard", actor_id="sales1",
                                                       data=drafts, filename="d.csv"), timeout=30).project_ids
    a, b = (stub.GetProject(pb.GetProjectRequest(project_id=pid), timeout=10).project for pid in ids)
    first.server.stop(None).wait()
    rows = sheet(150, tag="g").decode().replace("负责人\n", "负责人,项目编号\n").replace(",sales1\n", ",sales1,\n")
    rows += f"e-a,项目ea,ea客户有限公司,150,制造,sales1,{a.code}\ne-b,项目eb,eb客户有限公司,200,制造,sales1,{b.code}\n"
    job_id = _queued_job(db_url, rows.encode())
    engine = make_engine(db_url)
    calls: list[int] = []
    assert job_store.run_job(engine, job_id, chunk_rows=100,
                             should_stop=lambda: bool(calls.append(1)) or len(calls) > 1) == JobStatus.QUEUED
    with Session(engine) as session:
        row = session.get(ImportJobRow, job_id)
        assert row is not None
        assert (row.created, row.updated, row.unchanged, row.changes_total) == (100, 1, 1, 1)
    assert job_store.run_job(engine, job_id, chunk_rows=100) == JobStatus.DONE
    with Session(engine) as session:
        job = job_store.get_job(session=session, job_id=job_id, viewer_id="admin", viewer_is_admin=True)
    engine.dispose()
    assert (job.created, job.existing, job.updated, job.unchanged, job.rows_done) == (150, 0, 1, 1, 152)
    assert job.updated_ids == [a.id] and job.changes_total == 1 and job.changes[0]["kind"] == "edit"


def test_job_interrupted_too_often_is_failed_with_the_reason(make_db_url: Callable[[str], str]) -> None:
    db_url = make_db_url("registry")
    upgrade("registry", db_url)
    engine = make_engine(db_url)
    with Session(engine) as session:
        now = utc_now()
        old = now - timedelta(seconds=job_store.STALE_SECONDS + 5)
        session.add(ImportJobRow(id="tired", actor_id="u", form_key="standard", data=b"x", status="running",
                                 attempts=3, created_at=now, updated_at=old))
        # Running with a fresh heartbeat: a live runner (another replica) has it.
        session.add(ImportJobRow(id="alive", actor_id="u", form_key="standard", data=b"x", status="running",
                                 attempts=1, created_at=now, updated_at=now))
        session.add(ImportJobRow(id="waiting", actor_id="u", form_key="standard", data=b"x", status="queued",
                                 created_at=now, updated_at=now))
        session.commit()
    assert job_store.resume_interrupted(engine) == ["waiting"]
    with Session(engine) as session:
        row = session.get(ImportJobRow, "tired")
        assert row is not None and row.status == "failed" and "中断 3 次" in row.reason_zh and row.data is None
        alive = session.get(ImportJobRow, "alive")
        assert alive is not None and alive.status == "running"
    engine.dispose()


def test_bulk_collisions_answer_as_row_by_row(make_db_url: Callable[[str], str]) -> None:
    """The import's collision index gives every row the hits ``conflicts`` gives it, when each row
    before it in the sheet has been stored: exact USCC and name matches, similar names in the same
    blocking key, non-live rows ignored."""
    db_url = make_db_url("registry")
    upgrade("registry", db_url)
    engine = make_engine(db_url)
    rng = random.Random(19)
    cores = ["星辰科技", "星辰科枝", "星晨科技", "星辰网络", "海天软件", "海天软体", "恒瑞医疗", "恒瑞医药"]
    now = utc_now()

    def row(i: int, name: str, status: Status) -> dict[str, object]:
        norm = normalise_name(name)
        return {"id": f"old{i:04d}", "code": f"BB-T-{i:05d}", "status": status.value, "name": f"项目{i % 7}",
                "customer_name": name, "customer_name_norm": norm, "customer_name_key": block_key(norm),
                "customer_uscc": "", "customer_contact": "", "customer_phone": "", "amount": "1.00", "region": "",
                "business_line": "", "fields": {}, "form_key": "f", "form_version": 1, "owner_id": "u",
                "department_id": "", "conflicts": [], "version": 1, "created_at": now, "updated_at": now,
                "claim_key": "", "protection_state": "", "follow_ups": 0}

    existing = [row(i, f"杭州{rng.choice(cores)}{rng.choice(['', '有限公司', '股份有限公司'])}",
                    rng.choice([Status.ACTIVE, Status.ACTIVE, Status.DRAFT, Status.CLOSED])) for i in range(120)]
    for r in existing[::15]:
        r["customer_uscc"] = USCC
    with Session(engine) as session:
        session.add(UserRow(id="u", name="u"))
        session.execute(sa.insert(ProjectRow), existing)
        session.commit()
    news = [NewRegistration(project_id=f"new{i:04d}", status=rng.choice([Status.ACTIVE, Status.DRAFT]),
                            customer=Customer(name=f"{rng.choice(cores)}{rng.choice(['', '集团'])}" if i % 4
                                              else f"独立客户{i}号", uscc=USCC if i % 9 == 0 else ""),
                            name=f"项目{i % 5}") for i in range(60)]
    with Session(engine) as session:
        bulk = ConflictIndex(session).register(news, now)
    # Row by row: each new one checked, then stored, as the old import did.
    with Session(engine) as session:
        for new, hits in zip(news, bulk, strict=True):
            assert conflict_store.conflicts(session, new.project_id, new.customer, new.name) == hits
            r = row(0, new.customer.name, new.status)
            r.update(id=new.project_id, code=f"BB-N-{new.project_id}", name=new.name, customer_uscc=new.customer.uscc)
            session.execute(sa.insert(ProjectRow), [r])
        session.rollback()
    assert any(bulk) and not all(bulk)
    engine.dispose()


def test_cli_background_import_draws_progress(start_service: StartService, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    svc = start_service("registry", attachments_dir=tmp_path)
    seeded(svc.channel)
    monkeypatch.setenv("BAOBEI_REGISTRY_ADDR", f"127.0.0.1:{svc.port}")
    path = tmp_path / "big.csv"
    path.write_bytes(sheet(1_200, tag="g", bad_row=700))
    assert main(["import", str(path), "--form", "standard", "--background"]) == 1
    out = capsys.readouterr().out
    assert "导入失败：导入数据有误，未导入任何行" in out and "第 700 行 金额" in out and "新建 0" in out
    assert project_count(svc.db_url, "g-") == 0
    path.write_bytes(sheet(1_200, tag="g"))
    assert main(["import", str(path), "--form", "standard", "--background"]) == 0
    out = capsys.readouterr().out
    bars = [line for line in out.splitlines() if "/1,200 行" in line]
    assert bars and bars[-1].startswith("写入 [" + "#" * 30 + "] 1,200/1,200 行"), out
    assert "导入：共 1200 行，新建 1200，已存在 0，有误 0" in out
    assert project_count(svc.db_url, "g-") == 1_200
