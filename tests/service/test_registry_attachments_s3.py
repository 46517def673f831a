"""Registry attachments in an S3-compatible store (moto's server on 127.0.0.1 standing in for
MinIO / S3), chosen by the BAOBEI_ATTACHMENTS_S3_* settings: an upload over gRPC lands in the
bucket as ``<prefix><sha256>``, a project referencing it validates, an unknown id is refused, and
the same bytes uploaded twice are one object uploaded once. Plus the filesystem store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from moto.server import ThreadedMotoServer

from baobei.core.blobs import FileBlobs, S3Blobs, S3Config, blob_store, s3_config
from baobei.core.settings import Settings
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import ORG, fails, struct

PDF = b"%PDF-1.4 contract " + bytes(range(256))
FORM = pb.PutFormRequest(
    request_id="form-att", key="att", title="附件表单",
    fields=[pb.FormField(key="doc", label="合同", type="attachment", accept=[".pdf", "application/pdf"],
                         max_size=100_000)],
)
KEY_ID, SECRET = "AKIATESTBAOBEI", "test-secret"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


_buckets = iter(range(1, 1000))


@pytest.fixture()
def settings(s3_endpoint: str, tmp_path: Path) -> Settings:
    bucket = f"baobei-attachments-{next(_buckets)}"
    admin_client(s3_endpoint).create_bucket(Bucket=bucket)
    return Settings(
        data_dir=tmp_path, attachments_s3_bucket=bucket, attachments_s3_endpoint_url=s3_endpoint,
        attachments_s3_region="us-east-1", attachments_s3_prefix="attachments/",
        attachments_s3_access_key_id=KEY_ID, attachments_s3_secret_access_key=SECRET,
    )


def admin_client(endpoint: str) -> Any:
    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1",
                                          aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def objects(settings: Settings) -> dict[str, bytes]:
    client = admin_client(settings.attachments_s3_endpoint_url)
    listed = client.list_objects_v2(Bucket=settings.attachments_s3_bucket).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=settings.attachments_s3_bucket, Key=o["Key"])["Body"].read()
            for o in listed}


def start(start_service: StartService, settings: Settings, **kw: Any) -> grpc.Channel:
    # As serve() does: the data dir's attachments directory, S3 when a bucket is set.
    return start_service("registry", attachments_dir=settings.data_dir / "attachments",
                         attachments_s3=s3_config(settings), **kw).channel


def upload(stub: pb_grpc.RegistryServiceStub, data: bytes, name: str = "合同.pdf") -> pb.Attachment:
    req = pb.UploadAttachmentRequest(request_id=f"up-{name}", filename=name, content_type="application/pdf",
                                     data=data, uploader_id="sales1")
    return stub.UploadAttachment(req, timeout=10).attachment


def create(stub: pb_grpc.RegistryServiceStub, n: int, doc: str) -> pb.CreateProjectRequest:
    return pb.CreateProjectRequest(request_id=f"c-{n}", owner_id="sales1", form_key="att", name=f"项目{n}",
                                   customer=pb.Customer(name=f"附件{n}科技有限公司"), amount="1000",
                                   fields=struct({"doc": doc}))


def test_upload_lands_in_the_bucket_and_projects_reference_it(
    start_service: StartService, settings: Settings
) -> None:
    ch = start(start_service, settings)
    stub = pb_grpc.RegistryServiceStub(ch)
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(FORM, timeout=10)
    digest = hashlib.sha256(PDF).hexdigest()

    att = upload(stub, PDF)
    assert att.id == f"sha256:{digest}" and att.size == len(PDF)
    assert objects(settings) == {f"attachments/{digest}": PDF}
    assert not (settings.data_dir / "attachments").exists()  # nothing on the local disk

    again = upload(stub, PDF, name="副本.pdf")
    assert again.id == att.id
    assert list(objects(settings)) == [f"attachments/{digest}"]  # stored once

    project = stub.CreateProject(create(stub, 1, att.id), timeout=10).project
    assert project.fields["doc"] == att.id

    unknown = "sha256:" + hashlib.sha256(b"never uploaded").hexdigest()
    for n, bad in enumerate((unknown, "sha256:not-a-digest", "s3://elsewhere"), start=2):
        failure = fails(stub.CreateProject, create(stub, n, bad), grpc.StatusCode.INVALID_ARGUMENT)
        assert [v.field for v in failure.violations] == ["fields.doc"]


def test_same_bytes_twice_are_uploaded_once(start_service: StartService, settings: Settings) -> None:
    config = s3_config(settings)
    assert config is not None
    blobs = S3Blobs(config)
    puts: list[str] = []

    def count_put(params: dict[str, Any], **_: Any) -> None:
        puts.append(params["Key"])

    blobs.client.meta.events.register("provide-client-params.s3.PutObject", count_put)
    ch = start(start_service, settings, blobs=blobs)
    stub = pb_grpc.RegistryServiceStub(ch)
    first, second = upload(stub, b"same bytes", "a.txt"), upload(stub, b"same bytes", "b.txt")
    other = upload(stub, b"other bytes", "c.txt")
    assert first.id == second.id != other.id
    digests = [hashlib.sha256(d).hexdigest() for d in (b"same bytes", b"other bytes")]
    assert puts == [f"attachments/{d}" for d in digests]
    assert sorted(objects(settings)) == sorted(f"attachments/{d}" for d in digests)
    assert blobs.exists(first.id) and blobs.get(first.id) == b"same bytes"
    assert not blobs.exists("sha256:" + "0" * 64) and blobs.get("sha256:" + "0" * 64) is None
    assert not blobs.exists("sha256:../../etc/passwd") and blobs.get("garbage") is None


def test_settings_choose_the_store(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path, attachments_s3_bucket="")
    assert s3_config(plain) is None
    assert isinstance(blob_store(attachments_dir=tmp_path / "attachments", s3=s3_config(plain)), FileBlobs)
    s3 = Settings(data_dir=tmp_path, attachments_s3_bucket="b", attachments_s3_prefix="p/",
                  attachments_s3_endpoint_url="http://127.0.0.1:9", attachments_s3_access_key_id="k",
                  attachments_s3_secret_access_key="s")
    store = blob_store(s3=s3_config(s3))
    assert isinstance(store, S3Blobs)
    assert store.object_key("ab" * 32) == "p/" + "ab" * 32
    with pytest.raises(ValueError):
        S3Blobs(S3Config(bucket=""))


def test_filesystem_store(tmp_path: Path) -> None:
    blobs = FileBlobs(tmp_path / "attachments")
    key = blobs.put(b"hello")
    digest = hashlib.sha256(b"hello").hexdigest()
    assert key == f"sha256:{digest}"
    path = tmp_path / "attachments" / digest[:2] / digest
    assert path.read_bytes() == b"hello"
    mtime = path.stat().st_mtime_ns
    assert blobs.put(b"hello") == key  # idempotent: not rewritten
    assert path.stat().st_mtime_ns == mtime
    assert [p.name for p in (tmp_path / "attachments").rglob("*") if p.is_file()] == [digest]
    assert blobs.exists(key) and blobs.get(key) == b"hello"
    missing = "sha256:" + hashlib.sha256(b"absent").hexdigest()
    assert not blobs.exists(missing) and blobs.get(missing) is None
    for bad in ("sha256:../../etc/passwd", "md5:abc", digest, "sha256:" + digest.upper()):
        assert not blobs.exists(bad) and blobs.get(bad) is None


def test_serve_passes_the_attachment_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    from services.registry import server as registry_server

    seen: dict[str, Any] = {}

    def fake_build(**kw: Any) -> tuple[Any, int]:
        seen.update(kw)
        return object(), 0

    monkeypatch.setattr(registry_server, "build", fake_build)
    monkeypatch.setattr(registry_server, "run_until_signalled", lambda *a, **kw: None)
    registry_server.serve(settings)
    assert seen["attachments_dir"] == settings.data_dir / "attachments"
    assert seen["attachments_s3"] == S3Config(
        bucket=settings.attachments_s3_bucket, prefix="attachments/", endpoint_url=settings.attachments_s3_endpoint_url,
        region="us-east-1", access_key_id=KEY_ID, secret_access_key=SECRET,
    )
    registry_server.serve(settings.model_copy(update={"attachments_s3_bucket": ""}))
    assert seen["attachments_s3"] is None
