"""The one blob store (``baobei.core.blobs``) behind the services owning files, over real gRPC:
task deliverables travel as bytes to the tasks service, which checks and stores them (files under
its directory, or objects ``deliverables/<sha256>`` in S3 — moto's server standing in) and hands
them back; registry attachments are handed back only to a viewer who may have them (admin,
uploader, or a viewer of a project holding the id in a field they may read)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import grpc
import pytest

from baobei.core.blobs import s3_config
from baobei.core.settings import Settings
from baobei.registry.v1 import registry_service_pb2 as rpb
from baobei.registry.v1 import registry_service_pb2_grpc as rpb_grpc
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from services.tasks import server as tasks_server
from tests.conftest import StartService
from tests.service.test_registry_attachments_s3 import PDF, objects, s3_endpoint, settings, start
from tests.service.test_registry_service import ORG, fails, struct

__all__ = ["s3_endpoint", "settings"]  # fixtures shared with the attachment tests

_n = iter(range(1_000_000))


def run_tasks(start_service: StartService, **kw: Any) -> grpc.Channel:
    return start_service("tasks", **kw).channel


def add(stub: pb_grpc.TasksServiceStub, task_id: str, data: bytes, *, name: str = "验收报告.pdf",
        ctype: str = "application/pdf") -> pb.Deliverable:
    req = pb.AddDeliverableRequest(request_id=f"d{next(_n)}", task_id=task_id, filename=name, content_type=ctype,
                                   data=data, uploaded_by="sales1")
    return stub.AddDeliverable(req, timeout=30).deliverable


def exercise_deliverables(stub: pb_grpc.TasksServiceStub) -> tuple[pb.Deliverable, bytes]:
    task = stub.CreateTask(pb.CreateTaskRequest(request_id=f"t{next(_n)}", project_id="p-blob", name="验收"),
                           timeout=10).task
    big = bytes(range(256)) * (5 * 4096 + 7)  # > 5 MiB: over gRPC's default 4 MB message cap
    d = add(stub, task.id, big, ctype="application/pdf; charset=binary")
    assert (d.project_id, d.task_id, d.size) == ("p-blob", task.id, len(big))
    assert d.sha256 == hashlib.sha256(big).hexdigest() and d.content_type == "application/pdf"
    got = stub.GetDeliverable(pb.GetDeliverableRequest(deliverable_id=d.id, with_content=True), timeout=30)
    assert got.data == big and got.deliverable.filename == "验收报告.pdf"
    meta = stub.GetDeliverable(pb.GetDeliverableRequest(deliverable_id=d.id), timeout=10)
    assert meta.data == b"" and meta.deliverable.project_id == "p-blob"
    # bad uploads: every problem on `file`, nothing recorded
    for data, ctype in ((b"MZ", "application/x-msdownload"), (b"", "application/pdf"),
                        (b"x" * (20 * 1024 * 1024 + 1), "application/pdf")):
        failure = fails(stub.AddDeliverable, pb.AddDeliverableRequest(
            request_id=f"d{next(_n)}", task_id=task.id, filename="x", content_type=ctype, data=data),
            grpc.StatusCode.INVALID_ARGUMENT)
        assert {v.field for v in failure.violations} == {"file"}
    fails(stub.AddDeliverable, pb.AddDeliverableRequest(request_id="d-none", task_id="nope", filename="a.pdf",
                                                        content_type="application/pdf", data=b"%PDF"),
          grpc.StatusCode.NOT_FOUND)
    fails(stub.GetDeliverable, pb.GetDeliverableRequest(deliverable_id="nope", with_content=True),
          grpc.StatusCode.NOT_FOUND)
    listed = stub.ListDeliverables(pb.ListDeliverablesRequest(task_id=task.id), timeout=10).deliverables
    assert [x.id for x in listed] == [d.id]
    return d, big


def test_deliverables_in_files_under_the_service_dir(start_service: StartService, tmp_path: Path) -> None:
    ch = run_tasks(start_service, files_dir=tmp_path / "files")
    d, big = exercise_deliverables(pb_grpc.TasksServiceStub(ch))
    assert (tmp_path / "files" / d.sha256[:2] / d.sha256).read_bytes() == big


def test_deliverables_in_s3(start_service: StartService, settings: Settings) -> None:
    ch = run_tasks(start_service, files_dir=settings.data_dir / "files",
                   files_s3=s3_config(settings, prefix=settings.deliverables_s3_prefix))
    d, big = exercise_deliverables(pb_grpc.TasksServiceStub(ch))
    assert objects(settings) == {f"deliverables/{d.sha256}": big}
    assert not (settings.data_dir / "files").exists()  # nothing on the local disk


def test_tasks_serve_passes_the_blob_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr(tasks_server, "build", lambda **kw: (seen.update(kw), (object(), 0))[1])
    monkeypatch.setattr(tasks_server, "run_until_signalled", lambda *a, **kw: None)
    tasks_server.serve(settings)
    assert seen["files_dir"] == settings.data_dir / "files"
    assert seen["files_s3"] is not None and seen["files_s3"].prefix == "deliverables/"
    assert seen["files_s3"].bucket == settings.attachments_s3_bucket
    tasks_server.serve(settings.model_copy(update={"attachments_s3_bucket": ""}))
    assert seen["files_s3"] is None


def test_attachment_handed_only_to_who_may_have_it(start_service: StartService, settings: Settings) -> None:
    ch = start(start_service, settings)
    stub = rpb_grpc.RegistryServiceStub(ch)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(rpb.PutFormRequest(
        request_id="form-dl", key="dl", title="附件",
        fields=[rpb.FormField(key="doc", label="合同", type="attachment"),
                rpb.FormField(key="secret_doc", label="底价单", type="attachment", read_roles=["finance"])],
    ), timeout=10)
    up = stub.UploadAttachment(rpb.UploadAttachmentRequest(
        request_id="u1", filename="合同.pdf", content_type="application/pdf", data=PDF, uploader_id="sales1"),
        timeout=10).attachment
    hidden_bytes = b"%PDF-1.4 floor price"
    hidden = stub.UploadAttachment(rpb.UploadAttachmentRequest(
        request_id="u2", filename="底价.pdf", content_type="application/pdf", data=hidden_bytes,
        uploader_id="sales1"), timeout=10).attachment
    project = stub.CreateProject(rpb.CreateProjectRequest(
        request_id="c-dl", owner_id="sales1", form_key="dl", name="附件项目",
        customer=rpb.Customer(name="下载测试科技有限公司"), amount="1000",
        fields=struct({"doc": [up.id], "secret_doc": hidden.id})), timeout=10).project

    def get(att_id: str, viewer: rpb.Viewer | None) -> rpb.GetAttachmentResponse:
        req = rpb.GetAttachmentRequest(attachment_id=att_id, with_content=True)
        if viewer is not None:
            req.viewer.CopyFrom(viewer)
        return stub.GetAttachment(req, timeout=10)

    def refused(att_id: str, viewer: rpb.Viewer) -> None:
        req = rpb.GetAttachmentRequest(attachment_id=att_id, viewer=viewer, with_content=True)
        fails(stub.GetAttachment, req, grpc.StatusCode.NOT_FOUND)

    got = get(up.id, rpb.Viewer(user_id="mgr_sh"))  # manages the owner's department
    assert got.data == PDF and got.attachment.filename == "合同.pdf"
    assert got.attachment.content_type == "application/pdf"
    for viewer in (None, rpb.Viewer(user_id="x", is_admin=True), rpb.Viewer(user_id="sales1")):
        assert get(hidden.id, viewer).data == hidden_bytes
    approver = rpb.Viewer(user_id="fin", roles=["finance"], approver_project_ids=[project.id])
    assert get(hidden.id, approver).data == hidden_bytes and get(up.id, approver).data == PDF
    refused(hidden.id, rpb.Viewer(user_id="fin", roles=["finance"]))  # the role alone shows no project
    # sees the project, may not read the restricted field: as if the file did not exist
    refused(hidden.id, rpb.Viewer(user_id="mgr_sh", roles=["manager"]))
    for stranger in (rpb.Viewer(user_id="mgr_bj"), rpb.Viewer(user_id="sales2")):
        refused(up.id, stranger)
    for bad in ("sha256:" + "0" * 64, "sha256:../../etc/passwd", "", "%"):
        refused(bad, rpb.Viewer(user_id="sales1"))
    meta = stub.GetAttachment(rpb.GetAttachmentRequest(attachment_id=up.id), timeout=10)
    assert meta.data == b"" and meta.attachment.size == len(PDF)
