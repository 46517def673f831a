"""Persistence of the directory: searches over the index beside ``org_user`` (``index``), the
department tree, and the admin's and owners' token operations. Keyword-only functions over a
``Session``; the caller owns the transaction."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import uuid
from datetime import datetime

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import FieldViolation, NotFound, Unauthenticated, ValidationFailed
from services.registry import access
from services.registry.directory import keys as name_keys
from services.registry.directory.domain import DepartmentNode, DirectoryEntry, Sight, descendants, tree
from services.registry.directory.models import UserSearchRow
from services.registry.directory.own_tokens import own_token_spec
from services.registry.domain import User, Viewer
from services.registry.models import AccessTokenRow, UserRow
from services.registry.store import listing, org, tokens
from services.registry.store.rows import user_of

log = structlog.get_logger(__name__)
DEFAULT_LIMIT, MAX_LIMIT = 20, 200
DEFAULT_TOKEN_LIMIT = 50

# ---------- reading the directory ----------


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _match(q: str, admin: bool) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[int]] | None:
    """WHERE clause and rank (0 exact, 1 prefix, 2 contains) of a query; None when it is blank."""
    variants = name_keys.query_variants(q)
    if not variants:
        return None
    keys = col(UserSearchRow.keys)
    sep = name_keys.SEPARATOR
    exact: list[sa.ColumnElement[bool]] = [keys.like(f"%{sep}{_like(v)}{sep}%", escape="\\") for v in variants]
    prefix: list[sa.ColumnElement[bool]] = [keys.like(f"%{sep}{_like(v)}%", escape="\\") for v in variants]
    contains: list[sa.ColumnElement[bool]] = [keys.like(f"%{_like(v)}%", escape="\\") for v in variants]
    if admin:
        # Admins also find people by id, e-mail and mobile (as typed, case-insensitive).
        typed = variants[0]
        for column in (sa.func.lower(col(UserRow.id)), sa.func.lower(col(UserRow.email)), col(UserRow.mobile)):
            exact.append(column == typed)
            prefix.append(column.like(f"{_like(typed)}%", escape="\\"))
            contains.append(column.like(f"%{_like(typed)}%", escape="\\"))
    rank = sa.case((sa.or_(*exact), 0), (sa.or_(*prefix), 1), else_=2)
    return sa.or_(*contains), rank


def _encode(parts: list[object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts, ensure_ascii=False).encode()).decode().rstrip("=")


def _decode_search_cursor(cursor: str) -> tuple[int, str, str]:
    try:
        rank, sort_key, user_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(rank), str(sort_key), str(user_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as err:
        raise ValidationFailed([FieldViolation("cursor", "分页游标无效", "invalid cursor")]) from err


def _check(limit: int, **values: str) -> None:
    """422 for a NUL in a text parameter or a limit out of range, every one at once."""
    bad = [FieldViolation(k, "不能包含 NUL 字符", "must not contain NUL characters")
           for k, v in values.items() if "\x00" in v]
    if not 0 <= limit <= MAX_LIMIT:
        bad.append(FieldViolation("limit", f"须在 1 到 {MAX_LIMIT} 之间", f"must be between 1 and {MAX_LIMIT}"))
    if bad:
        raise ValidationFailed(bad)


def search_users(
    *, session: Session, viewer: Viewer | None, q: str = "", department_id: str = "", recursive: bool = False,
    role: str = "", include_left: bool = False, limit: int = 0, cursor: str = "",
) -> tuple[list[DirectoryEntry], str]:
    """Users matching ``q`` (ranked exact > prefix > contains over name, pinyin and initials; for
    admins also id, e-mail and mobile), then by the name's pinyin and id; keyset-paged."""
    _check(limit, q=q, department_id=department_id, role=role, cursor=cursor)
    if len(q) > name_keys.MAX_QUERY:
        raise ValidationFailed([FieldViolation("q", f"不能超过 {name_keys.MAX_QUERY} 个字符",
                                               f"must have at most {name_keys.MAX_QUERY} characters")])
    limit = limit or DEFAULT_LIMIT
    departments = org.departments(session=session)
    sight = Sight(viewer, departments, include_left=include_left)
    department_id = department_id.strip()
    if department_id and department_id not in departments:
        raise NotFound(f"部门 {department_id} 不存在", f"department {department_id} not found",
                       code="department_not_found")
    matched = _match(q, sight.admin)
    rank: sa.ColumnElement[int] = matched[1] if matched else sa.literal(0)
    stmt = select(UserRow, UserSearchRow.sort_key, rank.label("rank")).join(
        UserSearchRow, col(UserSearchRow.user_id) == col(UserRow.id))
    if matched:
        stmt = stmt.where(matched[0])
    if not include_left:
        stmt = stmt.where(col(UserRow.left).is_(False))
    if department_id:
        ids = sorted(descendants(department_id, departments)) if recursive else [department_id]
        stmt = stmt.where(col(UserRow.department_id).in_(ids))
    role = role.strip()
    if role:
        # Roles are a JSON list: its text holds the role JSON-quoted (checked exactly below).
        stmt = stmt.where(sa.cast(col(UserRow.roles), sa.Text).contains(json.dumps(role), autoescape=True))
    if cursor:
        r, s, last = _decode_search_cursor(cursor)
        sort_key = col(UserSearchRow.sort_key)
        stmt = stmt.where(sa.or_(rank > r, sa.and_(rank == r, sort_key > s),
                                 sa.and_(rank == r, sort_key == s, col(UserRow.id) > last)))
    stmt = stmt.order_by(rank, col(UserSearchRow.sort_key), col(UserRow.id)).limit(limit + 1)
    rows = list(session.exec(stmt).all())
    page = rows[:limit]
    entries = [sight.entry(user_of(u)) for u, _, _ in page if not role or role in (u.roles or [])]
    next_cursor = ""
    if len(rows) > limit:
        last_row, last_sort, last_rank = page[-1]
        next_cursor = _encode([int(last_rank), last_sort, last_row.id])
    return entries, next_cursor


def get_user(*, session: Session, viewer: Viewer | None, user_id: str) -> DirectoryEntry:
    _check(0, user_id=user_id)
    user = org.get_user(session=session, user_id=user_id.strip())
    return Sight(viewer, org.departments(session=session), include_left=False).entry(user)


def org_tree(*, session: Session, viewer: Viewer | None, include_left: bool) -> tuple[list[DepartmentNode], int]:
    """The tree with head counts (one GROUP BY) and the managers' names."""
    departments = org.departments(session=session)
    Sight(viewer, departments, include_left=include_left)
    counts = select(UserRow.department_id, sa.func.count()).group_by(col(UserRow.department_id))
    if not include_left:
        counts = counts.where(col(UserRow.left).is_(False))
    direct = {str(dept): int(n) for dept, n in session.exec(counts).all()}
    manager_ids = sorted({d.manager_id for d in departments.values() if d.manager_id})
    managers = {r.id: user_of(r)
                for r in session.exec(select(UserRow).where(col(UserRow.id).in_(manager_ids))).all()}
    return tree(departments, direct, managers)


# ---------- tokens ----------


def list_access_tokens(
    *, session: Session, now: datetime, user_id: str = "", expiring_before: datetime | None = None,
    include_expired: bool = False, limit: int = 0, cursor: str = "",
) -> tuple[list[tuple[access.AccessToken, str, bool]], str]:
    """Tokens not revoked, of every user (or one), newest first, each with its holder's name and
    whether it has expired at ``now``; keyset-paged on (created_at, id)."""
    _check(limit, user_id=user_id, cursor=cursor)
    limit = limit or DEFAULT_TOKEN_LIMIT
    stmt = (select(AccessTokenRow, UserRow.name)
            .outerjoin(UserRow, col(UserRow.id) == col(AccessTokenRow.user_id))
            .where(col(AccessTokenRow.revoked_at).is_(None)))
    if user_id.strip():
        stmt = stmt.where(col(AccessTokenRow.user_id) == user_id.strip())
    if not include_expired:
        stmt = stmt.where(col(AccessTokenRow.expires_at) > now)
    if expiring_before is not None:
        stmt = stmt.where(col(AccessTokenRow.expires_at) < expiring_before)
    if cursor:
        at, last_id = listing.decode_cursor(cursor)
        stmt = stmt.where(sa.or_(col(AccessTokenRow.created_at) < at,
                                 sa.and_(col(AccessTokenRow.created_at) == at, col(AccessTokenRow.id) < last_id)))
    stmt = stmt.order_by(col(AccessTokenRow.created_at).desc(), col(AccessTokenRow.id).desc()).limit(limit + 1)
    rows = list(session.exec(stmt).all())
    out = []
    for row, name in rows[:limit]:
        record = tokens.token_of(row)
        out.append((record, name or "", record.expired(now)))
    next_cursor = ""
    if len(rows) > limit:
        last = out[-1][0]
        next_cursor = listing.encode_cursor(last.created_at, last.id)
    return out, next_cursor


def issue_own_token(
    *, session: Session, user_id: str, name: str, scopes: list[str], scopes_given: bool, expires_in_days: int,
    via_token_id: str, now: datetime,
) -> tuple[str, access.AccessToken]:
    """A token the user creates for themselves (rules: ``own_tokens``); only its SHA-256 is stored."""
    user: User = org.get_user(session=session, user_id=user_id)
    if user.left:
        raise Unauthenticated("用户已离职，令牌失效", "the user has left: the token is no longer valid")
    parent: access.AccessToken | None = None
    if via_token_id:
        row = session.exec(select(AccessTokenRow).where(AccessTokenRow.id == via_token_id,
                                                        AccessTokenRow.user_id == user_id)).first()
        parent = tokens.token_of(row) if row else None
        if parent is None or parent.revoked_at is not None or parent.expired(now):
            raise Unauthenticated("当前令牌已失效", "the token in use is no longer valid", code="token_revoked")
    spec = own_token_spec(
        name=name, scopes=scopes, scopes_given=scopes_given, expires_in_days=expires_in_days, roles=user.roles,
        parent_scopes=parent.scopes if parent else None, parent_expires_at=parent.expires_at if parent else None,
        now=now,
    )
    token = tokens.TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AccessTokenRow(token_hash=tokens.hash_token(token), id=uuid.uuid4().hex, user_id=user_id,
                         name=spec.name, scopes=list(spec.scopes), created_at=now, expires_at=spec.expires_at)
    session.add(row)
    session.flush()
    log.info("token.issued_own", user_id=user_id, token_id=row.id, scopes=list(spec.scopes),
             expires_at=spec.expires_at, via_token=via_token_id)
    return token, tokens.token_of(row)
