"""File downloads (attachments, deliverables): the stored bytes with the stored type, always as a
download (`Content-Disposition: attachment`, RFC 6266 with a UTF-8 `filename*`), never sniffed or
rendered in our origin (nosniff, a sandboxing CSP), not cached by shared caches."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

FALLBACK_TYPE = "application/octet-stream"
# OpenAPI: what a download route answers with 200.
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes, as a download",
        # The stored type of the file (application/pdf, image/png, …).
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            "Content-Disposition": {
                "description": "attachment; filename=\"<ASCII fallback>\"; filename*=UTF-8''<name>",
                "schema": {"type": "string"},
            }
        },
    }
}


def ascii_fallback(name: str) -> str:
    """The name for clients without RFC 5987 support: non-ASCII, quotes and backslashes → ``_``."""
    return "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\' else "_" for ch in name) or "file"


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    name = (filename or "file").replace("\r", " ").replace("\n", " ").strip() or "file"
    return f"{disposition}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def _media_type(content_type: str) -> str:
    value = content_type.strip()
    # A stored type is a bare MIME type; anything else (or nothing) is served as opaque bytes.
    if not value or any(c in value for c in "\r\n,") or "/" not in value:
        return FALLBACK_TYPE
    return value


def file_response(data: bytes, *, filename: str, content_type: str) -> Response:
    return Response(
        content=data,
        media_type=_media_type(content_type),
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )
