"""Persistence of accounts, setup links and sign-in settings (the registry's database).

Each function is one short transaction: password hashing (tens of milliseconds) never runs inside
one. Read-modify-writes lock the row (``FOR UPDATE`` on PostgreSQL; SQLite transactions begin
IMMEDIATE and so run one at a time), so concurrent failures all count and a link or a TOTP step is
consumed once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from baobei.core.errors import Conflict, Forbidden, Gone, NotFound
from services.registry.accounts import domain
from services.registry.accounts.models import AccountRow, AuthSettingsRow, SetupLinkRow
from services.registry.domain import User
from services.registry.identity.domain import normalise
from services.registry.models import UserRow
from services.registry.store.rows import user_of


def _aware(t: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if t is None:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AccountState:
    """A snapshot of an account row (read outside any transaction that hashes)."""

    user_id: str
    password_hash: str = ""
    password_set_at: datetime | None = None
    failed_count: int = 0
    locked_until: datetime | None = None
    last_sign_in_at: datetime | None = None
    totp_secret: str = ""
    totp_pending: str = ""
    totp_last_step: int = 0
    recovery_codes: tuple[str, ...] = ()

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def _state(row: AccountRow | None, user_id: str) -> AccountState:
    if row is None:
        return AccountState(user_id=user_id)
    return AccountState(
        user_id=row.user_id, password_hash=row.password_hash, password_set_at=_aware(row.password_set_at),
        failed_count=row.failed_count, locked_until=_aware(row.locked_until),
        last_sign_in_at=_aware(row.last_sign_in_at), totp_secret=row.totp_secret, totp_pending=row.totp_pending,
        totp_last_step=int(row.totp_last_step or 0), recovery_codes=tuple(row.recovery_codes or ()),
    )


def _user_not_found(user_id: str) -> NotFound:
    return NotFound(f"用户 {user_id} 不存在", f"user {user_id} not found", code="user_not_found")


# ---- users ---------------------------------------------------------------------------------------


def get_user(engine: Engine, user_id: str) -> User:
    with Session(engine) as s:
        row = s.get(UserRow, user_id) if user_id else None
        if row is None:
            raise _user_not_found(user_id)
        return user_of(row)


def find_login(engine: Engine, login: str) -> User | None:
    """The user a login names: the user id, else the one user whose e-mail (case-insensitive) or
    mobile (without +86, spaces, dashes) it is. Several matches name nobody."""
    login = (login or "").strip()
    if not login or len(login) > 320:
        return None
    with Session(engine) as s:
        row = s.get(UserRow, login)
        if row is not None:
            return user_of(row)
        email, mobile = normalise("email", login), normalise("mobile", login)
        conditions = [sa.func.lower(col(UserRow.email)) == email]
        if mobile.isdigit():
            conditions.append(col(UserRow.mobile) == mobile)
        rows = list(s.exec(select(UserRow).where(sa.or_(*conditions)).limit(2)))
        return user_of(rows[0]) if len(rows) == 1 else None


def admins_with_password(engine: Engine) -> int:
    with Session(engine) as s:
        rows = s.exec(select(UserRow.id, UserRow.roles, UserRow.left).join(
            AccountRow, col(AccountRow.user_id) == col(UserRow.id)).where(col(AccountRow.password_hash) != "")).all()
        return sum(1 for _id, roles, left in rows if "admin" in (roles or []) and not left)


# ---- accounts ------------------------------------------------------------------------------------


def load(engine: Engine, user_id: str) -> AccountState:
    with Session(engine) as s:
        return _state(s.get(AccountRow, user_id), user_id)


def _locked_row(s: Session, user_id: str, now: datetime) -> AccountRow:
    """The account row under a row lock, created empty when missing (a concurrent creation
    wins and is read instead)."""
    stmt = select(AccountRow).where(col(AccountRow.user_id) == user_id).with_for_update()
    row = s.exec(stmt).first()
    if row is not None:
        return row
    try:
        with s.begin_nested():
            s.add(AccountRow(user_id=user_id, updated_at=now))
    except IntegrityError:
        pass
    row = s.exec(stmt).first()
    assert row is not None
    return row


def record_failure(engine: Engine, user_id: str, now: datetime, policy: domain.AccountPolicy) -> datetime | None:
    """Count one failure; returns the end of the lock when the account is now locked."""
    with Session(engine) as s:
        row = _locked_row(s, user_id, now)
        row.failed_count += 1
        row.last_failure_at = now
        seconds = domain.lock_seconds(row.failed_count, policy)
        if seconds:
            until = now + timedelta(seconds=seconds)
            current = _aware(row.locked_until)
            row.locked_until = max(until, current) if current else until
        row.updated_at = now
        s.add(row)
        s.commit()
        return _aware(row.locked_until) if seconds else None


def record_success(engine: Engine, user_id: str, now: datetime, *, new_hash: str = "") -> None:
    """A sign-in succeeded: failures and lock are forgotten (and an outdated hash replaced)."""
    values: dict[str, object] = {"failed_count": 0, "locked_until": None, "last_sign_in_at": now, "updated_at": now}
    if new_hash:
        values["password_hash"] = new_hash
    with Session(engine) as s:
        s.execute(sa.update(AccountRow).where(col(AccountRow.user_id) == user_id).values(**values))
        s.commit()


def unlock(engine: Engine, user_id: str, now: datetime) -> None:
    with Session(engine) as s:
        s.execute(sa.update(AccountRow).where(col(AccountRow.user_id) == user_id)
                  .values(failed_count=0, locked_until=None, updated_at=now))
        s.commit()


def set_password(engine: Engine, user_id: str, password_hash: str, now: datetime) -> None:
    """A new password: failures and lock are forgotten and outstanding setup links die."""
    with Session(engine) as s:
        row = _locked_row(s, user_id, now)
        row.password_hash, row.password_set_at = password_hash, now
        row.failed_count, row.locked_until, row.updated_at = 0, None, now
        s.add(row)
        s.execute(sa.update(SetupLinkRow).where(col(SetupLinkRow.user_id) == user_id,
                                                col(SetupLinkRow.state) == "open").values(state="void"))
        s.commit()


def consume_totp_step(engine: Engine, user_id: str, step: int) -> bool:
    """Record ``step`` as used; False when it (or a later one) was used already (a replay)."""
    with Session(engine) as s:
        result = s.execute(sa.update(AccountRow).where(col(AccountRow.user_id) == user_id,
                                                       col(AccountRow.totp_last_step) < step)
                           .values(totp_last_step=step))
        s.commit()
        return bool(getattr(result, "rowcount", 0))


def consume_recovery_code(engine: Engine, user_id: str, code_hash: str, now: datetime) -> int | None:
    """Use one recovery code; the number left, or None when it is not (or no longer) one."""
    with Session(engine) as s:
        row = _locked_row(s, user_id, now)
        codes = list(row.recovery_codes or [])
        if code_hash not in codes:
            return None
        codes.remove(code_hash)
        row.recovery_codes, row.updated_at = codes, now
        s.add(row)
        s.commit()
        return len(codes)


def start_totp(engine: Engine, user_id: str, secret: str, now: datetime) -> str:
    """The pending secret: the one being enrolled already, else ``secret``."""
    with Session(engine) as s:
        row = _locked_row(s, user_id, now)
        if row.totp_secret:
            raise _totp_conflict()
        if not row.totp_pending:
            row.totp_pending, row.updated_at = secret, now
            s.add(row)
            s.commit()
        return row.totp_pending


def _totp_conflict() -> Conflict:
    return Conflict("已启用两步验证，请先停用再重新绑定", "TOTP is already enabled; disable it first",
                    code="totp_already_enabled")


def confirm_totp(engine: Engine, user_id: str, pending: str, step: int, recovery_hashes: list[str],
                 now: datetime, *, secret: str | None = None) -> bool:
    """Activate the stored ``pending`` secret (as ``secret``, its re-sealed form, if given); False
    when the pending one changed meanwhile."""
    with Session(engine) as s:
        row = _locked_row(s, user_id, now)
        if row.totp_secret:
            raise _totp_conflict()
        if row.totp_pending != pending:
            return False
        row.totp_secret, row.totp_pending, row.totp_last_step = secret or pending, "", step
        row.totp_enabled_at, row.recovery_codes, row.updated_at = now, recovery_hashes, now
        s.add(row)
        s.commit()
        return True


def disable_totp(engine: Engine, user_id: str, now: datetime) -> bool:
    with Session(engine) as s:
        result = s.execute(sa.update(AccountRow).where(col(AccountRow.user_id) == user_id).values(
            totp_secret="", totp_pending="", totp_last_step=0, totp_enabled_at=None, recovery_codes=[],
            updated_at=now))
        s.commit()
        return bool(getattr(result, "rowcount", 0))


# ---- setup links ---------------------------------------------------------------------------------


def self_links_since(engine: Engine, user_id: str, since: datetime) -> int:
    with Session(engine) as s:
        return int(s.exec(select(sa.func.count()).select_from(SetupLinkRow).where(
            col(SetupLinkRow.user_id) == user_id, col(SetupLinkRow.created_by) == "self",
            col(SetupLinkRow.created_at) >= since)).one())


def add_link(engine: Engine, *, user_id: str, purpose: str, token_hash: str, actor_id: str, now: datetime,
             expires_at: datetime) -> None:
    """A new link; the user's earlier open links are superseded (only the newest works)."""
    with Session(engine) as s:
        s.execute(sa.update(SetupLinkRow).where(col(SetupLinkRow.user_id) == user_id,
                                                col(SetupLinkRow.state) == "open").values(state="void"))
        s.add(SetupLinkRow(token_hash=token_hash, user_id=user_id, purpose=purpose, created_at=now,
                           expires_at=expires_at, created_by=actor_id[:100]))
        s.commit()


@dataclass(frozen=True)
class Link:
    token_hash: str
    user_id: str
    purpose: str
    expires_at: datetime


def open_link(engine: Engine, token: str, now: datetime) -> Link:
    """The link of a token when it can still be used; else the refusal (see the proto)."""
    with Session(engine) as s:
        row = s.get(SetupLinkRow, domain.token_hash(token)) if token and len(token) <= 200 else None
        if row is None or row.state == "void":
            raise Forbidden("链接无效或已失效，请重新申请", "the link is invalid or no longer valid",
                            code="setup_link_invalid")
        if row.state == "used":
            raise Gone("链接已使用过，请重新申请", "the link has already been used", code="link_used")
        expires = _aware(row.expires_at)
        assert expires is not None
        if now >= expires:
            raise Forbidden("链接已过期，请重新申请", "the link has expired", code="setup_link_expired")
        return Link(token_hash=row.token_hash, user_id=row.user_id, purpose=row.purpose, expires_at=expires)


def consume_link(engine: Engine, link: Link, now: datetime) -> bool:
    """Mark the link used; False when another request used it first."""
    with Session(engine) as s:
        result = s.execute(sa.update(SetupLinkRow).where(col(SetupLinkRow.token_hash) == link.token_hash,
                                                         col(SetupLinkRow.state) == "open")
                           .values(state="used", used_at=now))
        s.commit()
        return bool(getattr(result, "rowcount", 0))


# ---- settings ------------------------------------------------------------------------------------


def get_settings(engine: Engine) -> AuthSettingsRow:
    with Session(engine) as s:
        row = s.get(AuthSettingsRow, 1)
        if row is None:
            return AuthSettingsRow(id=1)
        s.expunge(row)
        return row


def _settings_row(s: Session) -> AuthSettingsRow:
    stmt = select(AuthSettingsRow).where(col(AuthSettingsRow.id) == 1).with_for_update()
    row = s.exec(stmt).first()
    if row is None:
        try:
            with s.begin_nested():
                s.add(AuthSettingsRow(id=1))
        except IntegrityError:
            pass
        row = s.exec(stmt).first()
    assert row is not None
    return row


def put_settings(engine: Engine, *, totp_required_roles: list[str], actor_id: str, now: datetime) -> AuthSettingsRow:
    with Session(engine) as s:
        row = _settings_row(s)
        if list(row.totp_required_roles or []) != totp_required_roles or row.version == 0:
            row.totp_required_roles = totp_required_roles
            row.version += 1
            row.updated_at, row.updated_by = now, actor_id[:100]
            s.add(row)
            s.commit()
        s.refresh(row)
        s.expunge(row)
        return row


def retire_bootstrap_token(engine: Engine, *, fingerprint: str, actor_id: str, now: datetime) -> AuthSettingsRow:
    with Session(engine) as s:
        row = _settings_row(s)
        retired = list(row.retired_bootstrap_tokens or [])
        if fingerprint not in {r.get("fingerprint") for r in retired}:
            retired.append({"fingerprint": fingerprint, "at": now.isoformat(), "by": actor_id[:100]})
            row.retired_bootstrap_tokens = retired
            row.version += 1
            row.updated_at, row.updated_by = now, actor_id[:100]
            s.add(row)
            s.commit()
        s.refresh(row)
        s.expunge(row)
        return row


def required_roles(engine: Engine) -> list[str]:
    return list(get_settings(engine).totp_required_roles or [])
