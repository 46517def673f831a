"""Persistence of providers and identity links (the registry's database)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from baobei.core.errors import Conflict, FieldViolation, Forbidden, NotFound, ValidationFailed
from services.registry.identity import domain
from services.registry.identity.models import AuthProviderRow, IdentityLinkRow
from services.registry.models import UserRow
from services.registry.sealing import Sealer


def _now() -> datetime:
    return datetime.now(UTC)


def _provider_not_found(key: str) -> NotFound:
    return NotFound(f"登录方式 {key} 不存在", f"sign-in provider {key} not found", code="provider_not_found")


def get_provider(*, session: Session, key: str) -> AuthProviderRow:
    row = session.get(AuthProviderRow, key)
    if row is None:
        raise _provider_not_found(key)
    return row


def list_providers(*, session: Session, enabled_only: bool) -> list[AuthProviderRow]:
    stmt = select(AuthProviderRow).order_by(AuthProviderRow.key)
    if enabled_only:
        stmt = stmt.where(AuthProviderRow.enabled == sa.true())
    return list(session.exec(stmt))


def put_provider(
    *, session: Session, key: str, type_: str, name: str, enabled: bool, config: dict[str, Any],
    secrets: dict[str, Any], clear_secrets: list[str], actor_id: str, sealer: Sealer,
) -> AuthProviderRow:
    """Secrets are stored sealed; unchanged ones keep their sealed form (and the version stays)."""
    domain.check_provider(key, type_)
    both = sorted(set(secrets) & set(clear_secrets))
    if both:
        raise ValidationFailed(
            [FieldViolation(f"secrets.{k}", "不能同时设置和清除", "set and cleared at once") for k in both])
    row = session.get(AuthProviderRow, key)
    if row is not None and row.type != type_:
        raise Conflict(f"登录方式 {key} 的类型是 {row.type}，不能改为 {type_}",
                       f"provider {key} is of type {row.type}, not {type_}", code="provider_type_fixed")
    stored = dict(row.secrets or {}) if row is not None else {}
    before = unseal_secrets(stored, sealer)
    kept = dict(before)
    for k in clear_secrets:
        kept.pop(k, None)
    kept.update({k: v for k, v in secrets.items() if v not in (None, "")})
    if row is None:
        row = AuthProviderRow(key=key, type=type_, version=0, updated_at=_now())
    changed = (row.name, row.enabled, row.config, before) != (name, enabled, config, kept)
    row.name, row.enabled, row.config = name, enabled, dict(config)
    # An unchanged secret keeps its sealed form unless it is legacy plain text or under an old key.
    row.secrets = {k: stored[k] if k in stored and before.get(k) == v and _current(stored[k], sealer)
                   else _seal(v, sealer) for k, v in kept.items()}
    if changed or row.version == 0:
        row.version += 1
        row.updated_at, row.updated_by = _now(), actor_id
    session.add(row)
    session.flush()
    return row


def _seal(value: Any, sealer: Sealer) -> Any:
    return sealer.seal(value) if isinstance(value, str) else value


def _current(value: Any, sealer: Sealer) -> bool:
    return not isinstance(value, str) or sealer.is_current(value)


def unseal_secrets(stored: dict[str, Any], sealer: Sealer) -> dict[str, Any]:
    return {k: sealer.unseal(v) if isinstance(v, str) else v for k, v in stored.items()}


def delete_provider(*, session: Session, key: str) -> bool:
    row = session.get(AuthProviderRow, key)
    if row is None:
        return False
    session.delete(row)
    session.execute(sa.delete(IdentityLinkRow).where(col(IdentityLinkRow.provider_key) == key))
    return True


def _candidates(session: Session, field: str, value: str) -> list[domain.Candidate]:
    if field == "id":
        rows = [r for r in [session.get(UserRow, value.strip())] if r is not None]
    else:
        column = UserRow.email if field == "email" else UserRow.mobile
        rows = list(session.exec(select(UserRow).where(column != "")))
    users = [domain.Candidate(id=r.id, email=r.email, mobile=r.mobile, left=bool(r.left)) for r in rows]
    return domain.matches(field, value, users)


def _left(user_id: str) -> Forbidden:
    return Forbidden(f"用户 {user_id} 已离职", f"user {user_id} has left", code="user_left")


def resolve_identity(
    *, session: Session, provider_key: str, subject: str, match_field: str, match_value: str, display: str,
    platform_user_id: str = "",
) -> tuple[UserRow, bool]:
    """The org user of an external identity, linking it on first sign-in (see the proto)."""
    if not subject.strip():
        raise ValidationFailed([FieldViolation("subject", "缺少外部身份标识", "the external subject is missing")])
    get_provider(session=session, key=provider_key)
    link = session.get(IdentityLinkRow, (provider_key, subject))
    if link is not None:
        user = session.get(UserRow, link.user_id)
        if user is None:
            raise NotFound("未找到对应的用户", "no org user for this identity", code="sso_user_unknown")
        if user.left:
            raise _left(user.id)
        link.last_sign_in_at = _now()
        link.platform_user_id = platform_user_id.strip()[:200] or link.platform_user_id
        session.add(link)
        return user, False
    if match_field not in domain.MATCH_FIELDS:
        raise ValidationFailed([FieldViolation("match_field", "匹配字段必须是 id / email / mobile",
                                               "match_field must be id, email or mobile")])
    found = _candidates(session, match_field, match_value)
    live = [c for c in found if not c.left]
    if not live:
        if found:
            raise _left(found[0].id)
        raise NotFound("没有与该账号对应的组织用户，请联系管理员", "no org user matches this account; ask an admin",
                       code="sso_user_unknown")
    if len(live) > 1:
        raise Conflict(f"有 {len(live)} 位用户的 {match_field} 相同，无法确定是谁",
                       f"{len(live)} users share this {match_field}", code="sso_user_ambiguous")
    user = session.get(UserRow, live[0].id)
    assert user is not None
    other = session.exec(select(IdentityLinkRow).where(
        IdentityLinkRow.provider_key == provider_key, IdentityLinkRow.user_id == user.id)).first()
    if other is not None:
        if other.subject == subject:  # a concurrent first sign-in of this same identity linked it meanwhile
            return user, False
        raise Conflict("该用户已绑定此登录方式的另一个账号", "this user is linked to another account of the provider",
                       code="sso_identity_conflict")
    now = _now()
    session.add(IdentityLinkRow(provider_key=provider_key, subject=subject, user_id=user.id, display=display[:320],
                                platform_user_id=platform_user_id.strip()[:200], linked_at=now, last_sign_in_at=now))
    session.flush()
    return user, True


def list_links(*, session: Session, user_id: str) -> list[IdentityLinkRow]:
    stmt = select(IdentityLinkRow).where(IdentityLinkRow.user_id == user_id).order_by(IdentityLinkRow.provider_key)
    return list(session.exec(stmt))


def delete_link(*, session: Session, user_id: str, provider_key: str) -> bool:
    result = session.execute(sa.delete(IdentityLinkRow).where(
        col(IdentityLinkRow.user_id) == user_id, col(IdentityLinkRow.provider_key) == provider_key))
    return bool(getattr(result, "rowcount", 0))
