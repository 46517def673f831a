"""TLS / mTLS for gRPC between components, selected by settings (``BAOBEI_GRPC_TLS_*``).

One identity per component (certificate + key, e.g. from a Kubernetes Secret) is served by a
service and presented by the same component as a client; the CA bundle verifies peers, and a
service with a CA requires client certificates. A service configured with TLS binds only a secure
port, so plaintext clients are refused."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import grpc


class TlsSettings(Protocol):
    grpc_tls_cert: str
    grpc_tls_key: str
    grpc_tls_ca: str
    grpc_tls_server_name: str
    grpc_tls_required: bool


class TlsConfigError(RuntimeError):
    """The TLS settings are incomplete or unreadable."""


@dataclass(frozen=True)
class GrpcTls:
    cert: bytes
    key: bytes
    ca: bytes = b""
    server_name: str = ""

    @property
    def mutual(self) -> bool:
        return bool(self.ca)

    @classmethod
    def from_settings(cls, settings: TlsSettings) -> GrpcTls | None:
        """The configured identity, or None for plaintext (refused when TLS is required)."""
        files = {
            "BAOBEI_GRPC_TLS_CERT": settings.grpc_tls_cert,
            "BAOBEI_GRPC_TLS_KEY": settings.grpc_tls_key,
            "BAOBEI_GRPC_TLS_CA": settings.grpc_tls_ca,
        }
        if not any(files.values()):
            if settings.grpc_tls_required:
                raise TlsConfigError(
                    "BAOBEI_GRPC_TLS_REQUIRED is set but BAOBEI_GRPC_TLS_CERT/_KEY/_CA are not: refusing plaintext gRPC"
                )
            return None
        needed = list(files) if settings.grpc_tls_required else ["BAOBEI_GRPC_TLS_CERT", "BAOBEI_GRPC_TLS_KEY"]
        missing = [name for name in needed if not files[name]]
        if missing:
            raise TlsConfigError(f"gRPC TLS needs {', '.join(missing)}")
        data: dict[str, bytes] = {}
        for name, path in files.items():
            if not path:
                data[name] = b""
                continue
            try:
                data[name] = Path(path).read_bytes()
            except OSError as err:
                raise TlsConfigError(f"{name}={path}: {err.strerror or err}") from err
        return cls(
            cert=data["BAOBEI_GRPC_TLS_CERT"],
            key=data["BAOBEI_GRPC_TLS_KEY"],
            ca=data["BAOBEI_GRPC_TLS_CA"],
            server_name=settings.grpc_tls_server_name,
        )

    def server_credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.key, self.cert)], root_certificates=self.ca or None, require_client_auth=self.mutual
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca or None, private_key=self.key, certificate_chain=self.cert
        )

    def channel_options(self) -> list[tuple[str, str]]:
        return [("grpc.ssl_target_name_override", self.server_name)] if self.server_name else []
