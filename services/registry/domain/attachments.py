"""Attachments: what an upload may be, and how a project's fields refer to one. Pure."""

from __future__ import annotations

from typing import Any

from baobei.core.errors import FieldViolation

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = (
    "application/pdf", "image/", "text/plain", "text/csv", "application/zip",
    "application/msword", "application/vnd.openxmlformats-officedocument.", "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
)
# Where an approval refers to attachments.
# acceptance: a customer sign-off or deliverable document of an acceptance (验收) request.
LINK_KINDS = ("comment", "decision", "acceptance")


def content_type(raw: str) -> str:
    return (raw or "application/octet-stream").split(";")[0].strip().lower()


def upload_violations(size: int, ctype: str) -> list[FieldViolation]:
    """Empty, too large or of a type not accepted (``ctype`` as ``content_type`` gives it)."""
    out = []
    if not size:
        out.append(FieldViolation("file", "文件为空", "the file is empty"))
    if size > MAX_ATTACHMENT_BYTES:
        out.append(FieldViolation("file", f"文件超过 {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB",
                                  f"the file exceeds {MAX_ATTACHMENT_BYTES // 1024 // 1024} MB"))
    if not any(ctype == t or (t.endswith(("/", ".")) and ctype.startswith(t)) for t in ALLOWED_TYPES):
        out.append(FieldViolation("file", f"不支持的文件类型 {ctype}", f"unsupported file type {ctype}"))
    return out


def digest(attachment_id: str) -> str:
    """The SHA-256 hex of a ``sha256:<hex>`` id, "" when the id is not one."""
    hexdigest = attachment_id.removeprefix("sha256:")
    return hexdigest if len(hexdigest) == 64 and all(c in "0123456789abcdef" for c in hexdigest) else ""


def references(value: Any, attachment_id: str) -> bool:
    """Whether a field value (one id or a list of them) refers to the attachment."""
    if isinstance(value, list):
        return attachment_id in value
    return bool(value == attachment_id)


def may_link(*, readable: bool, uploader_id: str, owner_id: str) -> bool:
    """An approval may point at an attachment its author may read, or one the project's owner
    uploaded (an approver refers to the owner's file)."""
    return readable or bool(uploader_id and uploader_id == owner_id)
