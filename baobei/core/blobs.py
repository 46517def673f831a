"""The one blob store of the services that own files — registry attachments, tasks deliverables —
content-addressed by SHA-256: the key of some bytes is ``sha256:<hex>``, so the same content always
has the same key and is stored once. The metadata (name, type, who, which project) stays in the
owning service's database; the bytes reach it over gRPC (never the edge's disk).

Two implementations behind :class:`BlobStore`, chosen by settings (:func:`blob_store`):

- :class:`FileBlobs` — files under the service's directory (``<data-dir>/attachments/ab/abcdef…``,
  ``<data-dir>/files/ab/abcdef…``), written atomically; an existing blob is never rewritten.
- :class:`S3Blobs` — objects ``<prefix><hex>`` in a bucket of S3 or an S3-compatible store (MinIO, …)
  at the configured endpoint; an object that is already there is not uploaded again.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from baobei.core.settings import Settings

KEY_PREFIX = "sha256:"
_HEX = re.compile(r"[0-9a-f]{64}")


def key_of(data: bytes) -> str:
    """The content address of ``data``: ``sha256:<hex>``."""
    return KEY_PREFIX + hashlib.sha256(data).hexdigest()


def digest_of(key: str) -> str | None:
    """The hex digest of a well-formed key (``sha256:<64 hex>``), else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    digest = key[len(KEY_PREFIX):]
    return digest if _HEX.fullmatch(digest) else None


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store ``data`` unless the same content is stored; return its key ``sha256:<hex>``."""
        ...

    def exists(self, key: str) -> bool:
        """Whether the content named by ``key`` is stored (False for a malformed key)."""
        ...

    def get(self, key: str) -> bytes | None:
        """The stored bytes, or None when ``key`` is unknown or malformed."""
        ...


class FileBlobs:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        if not _HEX.fullmatch(digest):
            raise ValueError("not a sha256 hex digest")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        key = key_of(data)
        target = self.path(key[len(KEY_PREFIX):])
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".up-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def exists(self, key: str) -> bool:
        digest = digest_of(key)
        return digest is not None and self.path(digest).exists()

    def get(self, key: str) -> bytes | None:
        digest = digest_of(key)
        if digest is None:
            return None
        target = self.path(digest)
        return target.read_bytes() if target.exists() else None


@dataclass(frozen=True)
class S3Config:
    bucket: str
    prefix: str = ""
    endpoint_url: str = ""  # empty = AWS S3 itself
    region: str = ""  # empty = us-east-1
    access_key_id: str = ""  # empty (both) = boto3's standard credential chain
    secret_access_key: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


class S3Blobs:
    """Objects ``<prefix><hex>`` in one bucket. ``client`` may be given (tests); otherwise a boto3
    client for the configured endpoint is created, path-style addressing when an endpoint is set
    (MinIO and most S3-compatible stores), checksums only where the API requires them."""

    def __init__(self, config: S3Config, client: Any = None) -> None:
        if not config.bucket:
            raise ValueError("S3 blob store needs a bucket")
        self.config = config
        self.bucket = config.bucket
        self.prefix = config.prefix
        self.client = client if client is not None else _s3_client(config)

    def object_key(self, digest: str) -> str:
        return f"{self.prefix}{digest}"

    def put(self, data: bytes) -> str:
        key = key_of(data)
        digest = key[len(KEY_PREFIX):]
        if self._head(digest):
            return key  # content addressed: the same bytes are already there
        self.client.put_object(
            Bucket=self.bucket, Key=self.object_key(digest), Body=data, ContentLength=len(data),
            ContentMD5=base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
            ContentType="application/octet-stream",
        )
        return key

    def exists(self, key: str) -> bool:
        digest = digest_of(key)
        return digest is not None and self._head(digest)

    def get(self, key: str) -> bytes | None:
        digest = digest_of(key)
        if digest is None:
            return None
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=self.object_key(digest))
        except Exception as exc:
            if _not_found(exc):
                return None
            raise
        body: bytes = resp["Body"].read()
        return body

    def _head(self, digest: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(digest))
        except Exception as exc:
            if _not_found(exc):
                return False
            raise
        return True


def _not_found(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    code = str(response.get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


def _s3_client(config: S3Config) -> Any:
    import boto3
    from botocore.config import Config

    botocore_config = Config(
        region_name=config.region or "us-east-1",
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path" if config.endpoint_url else "auto"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    credentials: dict[str, str] = {}
    if config.access_key_id or config.secret_access_key:
        credentials = {"aws_access_key_id": config.access_key_id,
                       "aws_secret_access_key": config.secret_access_key}
    return boto3.session.Session().client(
        "s3", endpoint_url=config.endpoint_url or None, config=botocore_config, **credentials
    )


def s3_config(settings: Settings, *, prefix: str | None = None) -> S3Config | None:
    """The S3 settings (``BAOBEI_ATTACHMENTS_S3_*``, shared by every blob-owning service), or None
    when no bucket is set (blobs stay on the filesystem). ``prefix`` replaces the configured object
    key prefix (each service keeps its own objects apart)."""
    if not settings.attachments_s3_bucket:
        return None
    return S3Config(
        bucket=settings.attachments_s3_bucket,
        prefix=settings.attachments_s3_prefix if prefix is None else prefix,
        endpoint_url=settings.attachments_s3_endpoint_url,
        region=settings.attachments_s3_region,
        access_key_id=settings.attachments_s3_access_key_id,
        secret_access_key=settings.attachments_s3_secret_access_key,
    )


def blob_store(
    *, root: str | Path | None = None, s3: S3Config | None = None, attachments_dir: str | Path | None = None
) -> BlobStore:
    """S3 when configured, else files under ``root`` (``attachments_dir`` is its older name; default:
    a directory in the system temp dir, for tests that do not care)."""
    if s3 is not None:
        return S3Blobs(s3)
    root = root if root is not None else attachments_dir
    path = Path(root) if root is not None else Path(tempfile.gettempdir()) / "baobei-blobs"
    return FileBlobs(path)
