"""Comment persistence: post (with the author's and the mentions' visibility checked), list
threads newest first (keyset-paged on the first comments), delete to a placeholder."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import NotFound
from services.registry import domain as registry_domain
from services.registry.comments import domain
from services.registry.comments.models import CommentRow
from services.registry.domain import Project, User, Viewer
from services.registry.models import ProjectRow, UserRow
from services.registry.store.listing import decode_cursor, encode_cursor
from services.registry.store.org import departments, find_user
from services.registry.store.rows import project_not_found, utc
from services.registry.store.rows import project_of as project_of_row
from services.registry.store.visibility import Visibility, with_teams

log = structlog.get_logger(__name__)
DEFAULT_LIMIT, MAX_LIMIT = 20, 100


@dataclass(frozen=True)
class Posted:
    comment: domain.Comment
    project: Project
    reply_to_author_id: str


def comment_of(row: CommentRow) -> domain.Comment:
    return domain.Comment(
        id=row.id, project_id=row.project_id, anchor=row.anchor, author_id=row.author_id, body=row.body,
        mentions=tuple(row.mentions or ()), parent_id=row.parent_id, reply_to_id=row.reply_to_id,
        created_at=utc(row.created_at), deleted=row.deleted,
        deleted_at=utc(row.deleted_at) if row.deleted_at else None, deleted_by=row.deleted_by,
    )


def visible_project(*, session: Session, project_id: str, viewer: Viewer | None) -> Project:
    """The project (unredacted: comments hold no field values) when the viewer may see it."""
    row = session.get(ProjectRow, project_id) if domain.usable_id(project_id) else None
    if row is None:
        raise project_not_found(project_id)
    project = project_of_row(row)
    if not Visibility(session, viewer).can_see(project):
        raise project_not_found(project_id)
    return project


def mentioned(*, session: Session, project: Project, mentions: Sequence[Viewer]) -> list[str]:
    """``domain.check_mentions`` against the directory and the org tree of this database."""
    if not mentions:
        return []
    tree = departments(session=session)
    users: dict[str, User | None] = {}

    def user(uid: str) -> User | None:
        if uid not in users:
            users[uid] = find_user(session=session, user_id=uid)
        return users[uid]

    return domain.check_mentions(
        mentions, project, user=user, managed=lambda uid: registry_domain.managed_departments(uid, tree),
        # Team members (项目团队) may be mentioned: the registry knows the teams.
        can_see=lambda v, p, m: registry_domain.can_see(with_teams(session, v) if v else v, p, m),
    )


def create(
    *, session: Session, project_id: str, viewer: Viewer | None, anchor: str, body: str,
    mentions: Sequence[Viewer], parent_id: str, now: datetime,
) -> Posted:
    if viewer is None or not viewer.user_id:
        raise project_not_found(project_id)
    project = visible_project(session=session, project_id=project_id, viewer=viewer)
    anchor = domain.normalise_anchor(anchor)
    text = domain.check_body(body)
    parent: domain.Comment | None = None
    if parent_id.strip():
        row = session.get(CommentRow, parent_id.strip()) if domain.usable_id(parent_id.strip()) else None
        if row is None:
            raise domain.unknown_parent(parent_id.strip())
        parent = comment_of(row)
    thread_id, reply_to = domain.thread_of(parent, project_id=project.id, anchor=anchor)
    ids = mentioned(session=session, project=project, mentions=mentions)
    row = CommentRow(
        id=uuid.uuid4().hex, project_id=project.id, anchor=anchor, author_id=viewer.user_id, body=text,
        mentions=ids, parent_id=thread_id, reply_to_id=reply_to, created_at=now,
    )
    session.add(row)
    session.flush()
    log.info("comment.created", comment_id=row.id, project_id=project.id, anchor=anchor, mentions=len(ids),
             reply=bool(reply_to))
    return Posted(comment=comment_of(row), project=project, reply_to_author_id=parent.author_id if parent else "")


def list_threads(
    *, session: Session, project_id: str, viewer: Viewer | None, anchor: str, limit: int, cursor: str,
) -> tuple[list[domain.Thread], str, int]:
    """(threads newest first with their replies oldest first, next cursor, number of threads)."""
    project = visible_project(session=session, project_id=project_id, viewer=viewer)
    limit = DEFAULT_LIMIT if limit <= 0 else min(limit, MAX_LIMIT)
    where = [col(CommentRow.project_id) == project.id, col(CommentRow.parent_id) == ""]
    if anchor.strip():
        where.append(col(CommentRow.anchor) == domain.normalise_anchor(anchor))
    total = session.exec(select(sa.func.count()).select_from(CommentRow).where(*where)).one()
    stmt = select(CommentRow).where(*where)
    if cursor:
        at, last_id = decode_cursor(cursor)
        stmt = stmt.where(sa.or_(col(CommentRow.created_at) < at,
                                 sa.and_(col(CommentRow.created_at) == at, col(CommentRow.id) < last_id)))
    rows = list(session.exec(stmt.order_by(col(CommentRow.created_at).desc(), col(CommentRow.id).desc())
                             .limit(limit + 1)).all())
    firsts = [comment_of(r) for r in rows[:limit]]
    replies: dict[str, list[domain.Comment]] = {c.id: [] for c in firsts}
    if firsts:
        for r in session.exec(select(CommentRow).where(col(CommentRow.parent_id).in_(list(replies)))
                              .order_by(col(CommentRow.created_at), col(CommentRow.id))).all():
            replies[r.parent_id].append(comment_of(r))
    next_cursor = encode_cursor(firsts[-1].created_at, firsts[-1].id) if len(rows) > limit else ""
    return [domain.Thread(c, replies[c.id]) for c in firsts], next_cursor, int(total)


def delete(*, session: Session, comment_id: str, viewer: Viewer | None, now: datetime) -> domain.Comment:
    """Delete to a placeholder; NOT_FOUND when the comment is unknown or its project not visible."""
    row = session.get(CommentRow, comment_id) if domain.usable_id(comment_id) else None
    if row is None or viewer is None:
        raise _comment_not_found(comment_id)
    try:
        visible_project(session=session, project_id=row.project_id, viewer=viewer)
    except NotFound as err:
        raise _comment_not_found(comment_id) from err
    comment = comment_of(row)
    domain.may_delete(comment, viewer)
    if not row.deleted:
        row.deleted, row.deleted_at, row.deleted_by = True, now, viewer.user_id
        row.body, row.mentions = "", []
        session.add(row)
        session.flush()
        log.info("comment.deleted", comment_id=row.id, project_id=row.project_id, by=viewer.user_id)
    return comment_of(row)


def authors(*, session: Session, comments: Sequence[domain.Comment]) -> dict[str, str]:
    """Display names of the comments' authors and mentions (user id → name)."""
    ids = {c.author_id for c in comments} | {m for c in comments for m in c.mentions}
    if not ids:
        return {}
    return {r.id: r.name for r in session.exec(select(UserRow).where(col(UserRow.id).in_(sorted(ids)))).all()}



def _comment_not_found(comment_id: str) -> NotFound:
    return NotFound(f"评论 {comment_id} 不存在", f"comment {comment_id} not found", code="comment_not_found")
