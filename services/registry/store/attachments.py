"""Attachments: content-addressed files (the id is ``sha256:<hex>``, the blob store's key) and
their links to approvals; who may download one is decided from the projects that refer to it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from baobei.core.blobs import BlobStore
from baobei.core.errors import FieldViolation, NotFound, ValidationFailed
from services.registry.domain import Viewer
from services.registry.domain import attachments as rules
from services.registry.models import AttachmentLinkRow, AttachmentRow, ProjectRow
from services.registry.store.rows import now as _now
from services.registry.store.rows import project_not_found, project_of
from services.registry.store.visibility import Visibility

log = structlog.get_logger(__name__)
# Projects examined for a reference to one attachment (content addressed: the same file may be in many).
ATTACHMENT_REFERENCE_SCAN = 200


def _not_found(attachment_id: str) -> NotFound:
    return NotFound(f"附件不存在：{attachment_id}", f"no such attachment: {attachment_id}", code="attachment_not_found")


def attachment_info(*, session: Session, attachment_id: str) -> tuple[str, str, int] | None:
    row = session.get(AttachmentRow, attachment_id) if attachment_id else None
    return (row.filename, row.content_type, row.size) if row else None


def save_attachment(
    *, session: Session, blobs: BlobStore, filename: str, content_type: str, data: bytes, uploader_id: str
) -> AttachmentRow:
    """Store the bytes in ``blobs`` (``baobei.core.blobs``: files or S3) and record them once:
    the same file uploaded twice is stored once."""
    ctype = rules.content_type(content_type)
    problems = rules.upload_violations(len(data), ctype)
    if problems:
        raise ValidationFailed(problems)
    att_id = blobs.put(data)
    row = session.get(AttachmentRow, att_id)
    if row is None:
        row = AttachmentRow(id=att_id, filename=(filename or "file")[:300], content_type=ctype, size=len(data),
                            uploader_id=uploader_id, created_at=_now())
        session.add(row)
        session.flush()
        log.info("attachment.stored", attachment_id=att_id, size=len(data), uploader=uploader_id)
    return row


def get_attachment(*, session: Session, attachment_id: str, viewer: Viewer | None) -> AttachmentRow:
    """The attachment if the viewer may have it: internal callers and admins, its uploader, or a
    viewer who sees a project holding its id in a field they may read or linking it from its
    approval. Else NotFound, as for an unknown id (nothing says whether the file exists)."""
    row = session.get(AttachmentRow, attachment_id) if attachment_id else None
    if row is None:
        raise _not_found(attachment_id)
    if viewer is None or viewer.admin or (viewer.user_id and row.uploader_id == viewer.user_id):
        return row
    digest = rules.digest(attachment_id)
    if not digest:
        raise _not_found(attachment_id)
    vis = Visibility(session, viewer)
    # Attachments of approval comments and decisions: whoever sees the project sees them.
    linked = session.exec(
        select(ProjectRow)
        .join(AttachmentLinkRow, col(AttachmentLinkRow.project_id) == col(ProjectRow.id))
        .where(col(AttachmentLinkRow.attachment_id) == attachment_id)
        .limit(ATTACHMENT_REFERENCE_SCAN)
    )
    if any(vis.can_see(project_of(p)) for p in linked):
        return row
    # The id is a SHA-256: a LIKE over the JSON text finds the candidates, the visibility and
    # read-permission rules of each project decide.
    stmt = (
        select(ProjectRow)
        .where(sa.cast(ProjectRow.fields, sa.Text).like(f"%{digest}%"))
        .limit(ATTACHMENT_REFERENCE_SCAN)
    )
    for project_row in session.exec(stmt):
        project = project_of(project_row)
        if not vis.can_see(project):
            continue
        if any(rules.references(v, attachment_id) for v in vis.shape(project).fields.values()):
            return row
    raise _not_found(attachment_id)


def link_attachments(
    *, session: Session, project_id: str, attachment_ids: list[str], viewer: Viewer | None, kind: str, now: datetime
) -> list[str]:
    """Record that the attachments are referenced on the project's approval (``kind`` comment or
    decision), so whoever may see the project may download them. The viewer must see the project
    (else NotFound), and each attachment must be one ``rules.may_link`` allows: any other (or an
    unknown id) is a validation error on ``attachments[<i>].url``, and nothing is linked. ""
    entries are external links, skipped. Linking again changes nothing."""
    if kind not in rules.LINK_KINDS:
        raise ValidationFailed([FieldViolation("kind", "须为 comment、decision 或 acceptance",
                                               "must be comment, decision or acceptance")])
    project_row = session.get(ProjectRow, project_id) if project_id else None
    vis = Visibility(session, viewer)
    if project_row is None or not vis.can_see(project_of(project_row)):
        raise project_not_found(project_id)
    problems: list[FieldViolation] = []
    linked: list[str] = []
    for i, raw in enumerate(attachment_ids):
        aid = raw.strip()
        if not aid:
            continue
        try:
            get_attachment(session=session, attachment_id=aid, viewer=viewer)
            readable = True
        except NotFound:
            readable = False
        found = session.get(AttachmentRow, aid)
        if found is None or not rules.may_link(readable=readable, uploader_id=found.uploader_id,
                                               owner_id=project_row.owner_id):
            problems.append(FieldViolation(f"attachments[{i}].url", f"附件不存在或无权使用：{aid}",
                                           f"no such attachment, or not yours to share: {aid}"))
        elif aid not in linked:
            linked.append(aid)
    if problems:
        raise ValidationFailed(problems)
    table = AttachmentLinkRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    actor = viewer.user_id if viewer is not None else ""
    for aid in linked:
        session.execute(
            insert(table)
            .values(attachment_id=aid, project_id=project_id, kind=kind, linked_by=actor, created_at=now)
            .on_conflict_do_nothing()
        )
    if linked:
        log.info("attachment.linked", project_id=project_id, attachments=len(linked), kind=kind, actor=actor)
    return linked
