"""Access tokens: only each token's SHA-256 is stored; ``access`` holds the rules."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
import structlog
from sqlmodel import Session, col, select

from baobei.core.errors import Conflict, NotFound, Unauthenticated
from services.registry import access
from services.registry.domain import User
from services.registry.models import AccessTokenRow
from services.registry.store.org import find_user, get_user
from services.registry.store.rows import now as _now
from services.registry.store.rows import utc

log = structlog.get_logger(__name__)
TOKEN_PREFIX = "bbt_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_of(row: AccessTokenRow) -> access.AccessToken:
    return access.AccessToken(
        id=row.id, user_id=row.user_id, name=row.name, scopes=tuple(row.scopes or ()), created_at=utc(row.created_at),
        expires_at=utc(row.expires_at), last_used_at=utc(row.last_used_at) if row.last_used_at else None,
        revoked_at=utc(row.revoked_at) if row.revoked_at else None,
    )


def issue_token(
    *, session: Session, user_id: str, spec: access.TokenSpec, now: datetime | None = None
) -> tuple[str, access.AccessToken]:
    """A new token and its record."""
    if get_user(session=session, user_id=user_id).left:
        raise Conflict(f"用户 {user_id} 已离职", f"user {user_id} has left", code="user_left")
    at = now or _now()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = AccessTokenRow(
        token_hash=hash_token(token), id=uuid.uuid4().hex, user_id=user_id, name=spec.name, scopes=list(spec.scopes),
        created_at=at, expires_at=at + timedelta(days=spec.expires_in_days),
    )
    session.add(row)
    session.flush()
    log.info("token.issued", user_id=user_id, token_id=row.id, scopes=list(spec.scopes), expires_at=row.expires_at)
    return token, token_of(row)


def authenticate(*, session: Session, token: str, now: datetime | None = None) -> tuple[User, access.AccessToken]:
    """The user and token record of a live token (``access.refusal``). Records the use at most
    once a minute (the caller commits)."""
    at = now or _now()
    row = session.get(AccessTokenRow, hash_token(token.strip())) if token.strip() else None
    user = find_user(session=session, user_id=row.user_id) if row else None
    if row is None or user is None:
        raise Unauthenticated()
    record = token_of(row)
    refused = access.refusal(record, user, at)
    if refused is not None:
        event, err = refused
        log.info(event, user_id=user.id, token_id=record.id)
        raise err
    if access.needs_touch(record.last_used_at, at):
        # Conditional, so concurrent uses within the minute write once.
        session.execute(
            sa.update(AccessTokenRow)
            .where(col(AccessTokenRow.token_hash) == row.token_hash,
                   sa.or_(col(AccessTokenRow.last_used_at).is_(None),
                          col(AccessTokenRow.last_used_at) <= at - access.TOUCH_EVERY))
            .values(last_used_at=at)
            .execution_options(synchronize_session=False)
        )
        record = replace(record, last_used_at=at)
    return user, record


def list_tokens(*, session: Session, user_id: str) -> list[access.AccessToken]:
    """The user's tokens that are not revoked (expired ones included: they show when), newest first."""
    get_user(session=session, user_id=user_id)
    rows = session.exec(
        select(AccessTokenRow)
        .where(AccessTokenRow.user_id == user_id, col(AccessTokenRow.revoked_at).is_(None))
        .order_by(col(AccessTokenRow.created_at).desc(), col(AccessTokenRow.id))
    ).all()
    return [token_of(r) for r in rows]


def revoke_token(*, session: Session, user_id: str, token_id: str, now: datetime | None = None) -> access.AccessToken:
    row = session.exec(
        select(AccessTokenRow).where(AccessTokenRow.id == token_id.strip(), AccessTokenRow.user_id == user_id)
    ).first() if access.is_token_id(token_id.strip()) else None
    if row is None:
        raise NotFound(f"令牌 {token_id} 不存在", f"token {token_id} not found", code="token_not_found")
    if row.revoked_at is None:
        row.revoked_at = now or _now()
        session.add(row)
        session.flush()
        log.info("token.revoked", user_id=user_id, token_id=row.id)
    return token_of(row)
