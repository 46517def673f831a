"""Content-addressed file store under ``<data_dir>/files``: a file lives at
``files/<sha256[:2]>/<sha256>`` so identical uploads are stored once and a digest names the bytes
for good. Shared by task deliverables and registry attachments; the metadata (name, type, owner)
stays with the service that owns the record."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_of(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> StoredFile:
        """Store ``data`` (atomically: temp file + rename) unless the same bytes are stored."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_of(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return StoredFile(sha256=digest, size=len(data))

    def get(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()

    def exists(self, sha256: str) -> bool:
        try:
            return self.path_of(sha256).exists()
        except ValueError:
            return False


def file_store(data_dir: Path) -> FileStore:
    return FileStore(Path(data_dir) / "files")
