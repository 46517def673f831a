"""gRPC between components over mTLS, selected by settings: a service with a certificate serves
TLS only and, with a CA, requires client certificates; plaintext callers are refused; the
plaintext health-only port answers kubelet probes and nothing else. Certificates are made here
with the openssl CLI."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from baobei.core.grpc_client import aio_channel, channel
from baobei.core.settings import Settings
from baobei.core.tls import GrpcTls, TlsConfigError
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.server import build
from tests.conftest import free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl CLI not installed")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _issue(d: Path, ca: str, name: str, cn: str) -> None:
    ext = d / f"{name}.ext"
    ext.write_text(
        "subjectAltName=DNS:registry,DNS:localhost,IP:127.0.0.1\n"
        "extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n"
    )
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-subj", f"/CN={cn}",
             "-out", f"{name}.csr", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key", "-CAcreateserial",
             "-days", "2", "-sha256", "-extfile", ext.name, "-out", f"{name}.crt", cwd=d)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "rogue-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-subj", f"/CN={ca}",
                 "-days", "2", "-out", f"{ca}.crt", cwd=d)
    _issue(d, "ca", "pod", "baobei")  # the Secret's tls.crt/tls.key, shared by all pods
    _issue(d, "rogue-ca", "rogue", "intruder")  # a certificate from a CA the services do not trust
    return d


def _settings(d: Path, **extra: object) -> Settings:
    return Settings(
        grpc_tls_cert=str(d / "pod.crt"), grpc_tls_key=str(d / "pod.key"), grpc_tls_ca=str(d / "ca.crt"),
        grpc_tls_required=True, **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def mtls_registry(
    certs: Path, make_db_url: Callable[[str], str]
) -> Iterator[tuple[int, int, GrpcTls]]:
    tls = GrpcTls.from_settings(_settings(certs))
    assert tls is not None and tls.mutual
    health_port = free_port()
    server, port = build(db_url=make_db_url("registry"), tls=tls, health_port=health_port)
    server.start()
    try:
        yield port, health_port, tls
    finally:
        server.stop(None).wait()


def _list_users(ch: grpc.Channel) -> grpc.StatusCode:
    try:
        pb_grpc.RegistryServiceStub(ch).ListUsers(pb.ListUsersRequest(), timeout=5)
    except grpc.RpcError as err:
        return err.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


def test_mtls_client_is_served(mtls_registry: tuple[int, int, GrpcTls]) -> None:
    port, _, tls = mtls_registry
    with channel(f"127.0.0.1:{port}", tls=tls) as ch:
        assert _list_users(ch) == grpc.StatusCode.OK
    # By service name too (the certificate names every service), as pods dial each other.
    named = GrpcTls(cert=tls.cert, key=tls.key, ca=tls.ca, server_name="registry")
    with channel(f"127.0.0.1:{port}", tls=named) as ch:
        assert _list_users(ch) == grpc.StatusCode.OK


def test_plaintext_client_is_refused(mtls_registry: tuple[int, int, GrpcTls]) -> None:
    port, _, _ = mtls_registry
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        assert _list_users(ch) == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError):
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)


def test_tls_client_without_certificate_or_from_another_ca_is_refused(
    certs: Path, mtls_registry: tuple[int, int, GrpcTls]
) -> None:
    port, _, tls = mtls_registry
    no_cert = grpc.ssl_channel_credentials(root_certificates=tls.ca)
    with grpc.secure_channel(f"127.0.0.1:{port}", no_cert) as ch:
        assert _list_users(ch) == grpc.StatusCode.UNAVAILABLE
    rogue = GrpcTls(cert=(certs / "rogue.crt").read_bytes(), key=(certs / "rogue.key").read_bytes(), ca=tls.ca)
    with channel(f"127.0.0.1:{port}", tls=rogue) as ch:
        assert _list_users(ch) == grpc.StatusCode.UNAVAILABLE


def test_health_port_is_plaintext_and_health_only(mtls_registry: tuple[int, int, GrpcTls]) -> None:
    _, health_port, _ = mtls_registry
    with grpc.insecure_channel(f"127.0.0.1:{health_port}") as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING
        assert _list_users(ch) == grpc.StatusCode.UNIMPLEMENTED


async def test_aio_channel_with_tls(mtls_registry: tuple[int, int, GrpcTls]) -> None:
    port, _, tls = mtls_registry
    async with aio_channel(f"127.0.0.1:{port}", tls=tls) as ch:
        resp = await pb_grpc.RegistryServiceStub(ch).ListUsers(pb.ListUsersRequest(), timeout=5)
        assert list(resp.users) == []


def test_settings_select_tls(certs: Path, tmp_path: Path) -> None:
    assert GrpcTls.from_settings(Settings()) is None  # plaintext by default (baobei dev, tests)
    with pytest.raises(TlsConfigError, match="refusing plaintext"):
        GrpcTls.from_settings(Settings(grpc_tls_required=True))
    with pytest.raises(TlsConfigError, match="BAOBEI_GRPC_TLS_CA"):
        GrpcTls.from_settings(Settings(grpc_tls_cert=str(certs / "pod.crt"), grpc_tls_key=str(certs / "pod.key"),
                                       grpc_tls_required=True))
    with pytest.raises(TlsConfigError, match="BAOBEI_GRPC_TLS_KEY"):
        GrpcTls.from_settings(Settings(grpc_tls_cert=str(certs / "pod.crt")))
    with pytest.raises(TlsConfigError, match="missing.pem"):
        GrpcTls.from_settings(Settings(grpc_tls_cert=str(tmp_path / "missing.pem"), grpc_tls_key="k"))
    server_only = GrpcTls.from_settings(
        Settings(grpc_tls_cert=str(certs / "pod.crt"), grpc_tls_key=str(certs / "pod.key"))
    )
    assert server_only is not None and not server_only.mutual


def test_serve_refuses_to_start_without_certificates_when_required(tmp_path: Path) -> None:
    """``baobei serve`` with BAOBEI_GRPC_TLS_REQUIRED and no certificates exits instead of
    serving plaintext."""
    import os
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("BAOBEI_")}
    env.update(BAOBEI_GRPC_TLS_REQUIRED="true", BAOBEI_DATA_DIR=str(tmp_path),
               BAOBEI_TASKS_ADDR=f"127.0.0.1:{free_port()}", BAOBEI_LOG_FORMAT="console")
    proc = subprocess.run([sys.executable, "-m", "cli.main", "serve", "tasks"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode != 0
    assert "refusing plaintext" in proc.stderr + proc.stdout
