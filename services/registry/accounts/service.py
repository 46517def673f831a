"""The operations behind AccountService, without transport: sign-in with lockout and TOTP,
passwords, setup links, TOTP enrolment and the sign-in settings. Hashing runs outside every
database transaction; each step that changes state is its own short, row-locked transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.engine import Engine

from baobei.core.errors import Conflict, FieldViolation, ValidationFailed
from services.registry.accounts import domain, hashing, store
from services.registry.accounts.models import AuthSettingsRow
from services.registry.domain import User
from services.registry.sealing import Sealer

log = structlog.get_logger(__name__)

OK, INVALID, LOCKED, TOTP_REQUIRED, TOTP_INVALID, USER_LEFT = (
    "ok", "invalid_credentials", "locked", "totp_required", "totp_invalid", "user_left")


@dataclass(frozen=True)
class Outcome:
    """What a sign-in attempt (or a password change / setup link use) came to."""

    outcome: str
    user: User | None = None
    user_id: str = ""
    locked_until: datetime | None = None
    totp_enrolment_required: bool = False
    recovery_code_used: bool = False
    recovery_codes_left: int = 0


@dataclass(frozen=True)
class IssuedLink:
    issued: bool
    token: str = ""
    expires_at: datetime | None = None
    user: User | None = None
    reason: str = ""


@dataclass(frozen=True)
class AccountView:
    state: store.AccountState
    totp_required: bool = False


@dataclass
class Accounts:
    engine: Engine
    # TOTP secrets are stored sealed: sealed on enrolment, unsealed to check a code.
    sealer: Sealer
    policy: domain.AccountPolicy = field(default_factory=domain.AccountPolicy)
    hasher: hashing.Hasher = field(init=False)

    def __post_init__(self) -> None:
        p = self.policy
        self.hasher = hashing.Hasher(p.hash_time_cost, p.hash_memory_kib, p.hash_parallelism)

    # ---- sign-in ---------------------------------------------------------------------------

    def _failed(self, user_id: str, now: datetime, outcome: str) -> Outcome:
        until = store.record_failure(self.engine, user_id, now, self.policy)
        log.info("account.sign_in_failed", user_id=user_id, reason=outcome, locked=until is not None)
        if until is not None:
            return Outcome(LOCKED, user_id=user_id, locked_until=until)
        return Outcome(outcome, user_id=user_id)

    def _second_factor(self, acct: store.AccountState, code: str, now: datetime) -> Outcome | None:
        """None when the code is right (and now used up); else the refusal (a failure counted)."""
        if domain.is_recovery_code(code):
            left = store.consume_recovery_code(self.engine, acct.user_id, domain.recovery_hash(code), now)
            if left is None:
                return self._failed(acct.user_id, now, TOTP_INVALID)
            log.info("account.recovery_code_used", user_id=acct.user_id, left=left)
            return Outcome(OK, user_id=acct.user_id, recovery_code_used=True, recovery_codes_left=left)
        step = domain.totp_step(self.sealer.unseal(acct.totp_secret), code, now, acct.totp_last_step)
        if step is None or not store.consume_totp_step(self.engine, acct.user_id, step):
            return self._failed(acct.user_id, now, TOTP_INVALID)
        return None

    def _check(self, user: User, password: str, code: str, now: datetime) -> Outcome:
        """Password (then code) of a known user, with the lockout; success resets the failures."""
        acct = store.load(self.engine, user.id)
        if acct.locked(now):
            self.hasher.dummy_verify(password)  # the same time whatever the state
            return Outcome(LOCKED, user_id=user.id, locked_until=acct.locked_until)
        if not acct.password_hash:
            # Counted too: an account without a password locks like any other.
            self.hasher.dummy_verify(password)
            return self._failed(user.id, now, INVALID)
        if not self.hasher.verify(acct.password_hash, password):
            return self._failed(user.id, now, INVALID)
        extra = Outcome(OK)
        if acct.totp_secret:
            if not code.strip():
                return Outcome(TOTP_REQUIRED, user_id=user.id)
            refused = self._second_factor(acct, code, now)
            if refused is not None and refused.outcome != OK:
                return refused
            extra = refused or extra
        if user.left:
            return Outcome(USER_LEFT, user=user, user_id=user.id)
        rehash = self.hasher.hash(password) if self.hasher.needs_rehash(acct.password_hash) else ""
        store.record_success(self.engine, user.id, now, new_hash=rehash)
        required = not acct.totp_secret and domain.totp_required(user.roles, store.required_roles(self.engine))
        return Outcome(OK, user=user, user_id=user.id, totp_enrolment_required=required,
                       recovery_code_used=extra.recovery_code_used, recovery_codes_left=extra.recovery_codes_left)

    def sign_in(self, login: str, password: str, code: str, now: datetime) -> Outcome:
        user = store.find_login(self.engine, login)
        if user is None or len(password) > 4 * domain.MAX_LENGTH:
            self.hasher.dummy_verify(password[: 4 * domain.MAX_LENGTH])
            return Outcome(INVALID)
        return self._check(user, password, code, now)

    # ---- passwords -------------------------------------------------------------------------

    def _policy_check(self, user: User, password: str, field_name: str) -> None:
        domain.check_password(password, field=field_name, user_id=user.id, name=user.name, email=user.email,
                              policy=self.policy)

    def set_password(self, user_id: str, password: str, now: datetime) -> AccountView:
        user = store.get_user(self.engine, user_id)
        self._policy_check(user, password, "password")
        store.set_password(self.engine, user.id, self.hasher.hash(password), now)
        log.info("account.password_set", user_id=user.id)
        return self.account(user.id)

    def change_password(self, user_id: str, current: str, new: str, now: datetime) -> Outcome:
        user = store.get_user(self.engine, user_id)
        acct = store.load(self.engine, user.id)
        if acct.locked(now):
            return Outcome(LOCKED, user_id=user.id, locked_until=acct.locked_until)
        if not acct.password_hash:
            raise Conflict("账号尚未设置密码", "the account has no password yet", code="no_password")
        self._policy_check(user, new, "new_password")
        if not self.hasher.verify(acct.password_hash, current):
            return self._failed(user.id, now, INVALID)
        store.set_password(self.engine, user.id, self.hasher.hash(new), now)
        log.info("account.password_changed", user_id=user.id)
        return Outcome(OK, user=user, user_id=user.id)

    # ---- setup links -----------------------------------------------------------------------

    def issue_link(self, *, purpose: str, user_id: str, login: str, actor_id: str, now: datetime) -> IssuedLink:
        domain.check_purpose(purpose)
        self_service = not user_id
        if self_service:
            user = store.find_login(self.engine, login)
            if user is None:
                return IssuedLink(False, reason="unknown")
            if user.left:
                return IssuedLink(False, user=user, reason="left")
            if not user.email:
                return IssuedLink(False, user=user, reason="no_email")
            if store.self_links_since(self.engine, user.id, now - timedelta(hours=1)) \
                    >= self.policy.self_reset_per_hour:
                return IssuedLink(False, user=user, reason="rate")
        else:
            user = store.get_user(self.engine, user_id)
            if user.left:
                raise Conflict(f"用户 {user.id} 已离职", f"user {user.id} has left", code="user_left")
            if purpose == domain.INVITE and store.load(self.engine, user.id).password_hash:
                raise Conflict("该用户已设置密码，请改用重置密码", "the user already has a password; send a reset link",
                               code="password_already_set")
        token = domain.new_link_token()
        expires = now + self.policy.link_ttl(purpose)
        store.add_link(self.engine, user_id=user.id, purpose=purpose, token_hash=domain.token_hash(token),
                       actor_id="self" if self_service else actor_id, now=now, expires_at=expires)
        log.info("account.link_issued", user_id=user.id, purpose=purpose, by=actor_id or "self")
        return IssuedLink(True, token=token, expires_at=expires, user=user)

    def check_link(self, token: str, now: datetime) -> tuple[store.Link, User, bool]:
        link = store.open_link(self.engine, token, now)
        user = store.get_user(self.engine, link.user_id)
        return link, user, bool(store.load(self.engine, user.id).totp_secret)

    def use_link(self, token: str, password: str, code: str, now: datetime) -> Outcome:
        link = store.open_link(self.engine, token, now)
        user = store.get_user(self.engine, link.user_id)
        if user.left:
            return Outcome(USER_LEFT, user=user, user_id=user.id)
        self._policy_check(user, password, "password")
        acct = store.load(self.engine, user.id)
        extra = Outcome(OK)
        if acct.totp_secret:
            # A mailbox alone does not replace the second factor.
            if acct.locked(now):
                return Outcome(LOCKED, user_id=user.id, locked_until=acct.locked_until)
            if not code.strip():
                return Outcome(TOTP_REQUIRED, user_id=user.id)
            refused = self._second_factor(acct, code, now)
            if refused is not None and refused.outcome != OK:
                return refused
            extra = refused or extra
        new_hash = self.hasher.hash(password)
        if not store.consume_link(self.engine, link, now):
            store.open_link(self.engine, token, now)  # raises what it has become (used)
            raise Conflict("链接已失效", "the link is no longer valid", code="setup_link_invalid")
        store.set_password(self.engine, user.id, new_hash, now)
        store.record_success(self.engine, user.id, now)
        log.info("account.link_used", user_id=user.id, purpose=link.purpose)
        required = not acct.totp_secret and domain.totp_required(user.roles, store.required_roles(self.engine))
        return Outcome(OK, user=user, user_id=user.id, totp_enrolment_required=required,
                       recovery_code_used=extra.recovery_code_used, recovery_codes_left=extra.recovery_codes_left)

    # ---- account state and TOTP ------------------------------------------------------------

    def account(self, user_id: str) -> AccountView:
        user = store.get_user(self.engine, user_id)
        required = domain.totp_required(user.roles, store.required_roles(self.engine))
        return AccountView(store.load(self.engine, user.id), totp_required=required)

    def unlock(self, user_id: str, now: datetime) -> AccountView:
        store.get_user(self.engine, user_id)
        store.unlock(self.engine, user_id, now)
        log.info("account.unlocked", user_id=user_id)
        return self.account(user_id)

    def start_totp(self, user_id: str, now: datetime) -> tuple[str, str]:
        user = store.get_user(self.engine, user_id)
        stored = store.start_totp(self.engine, user.id, self.sealer.seal(domain.new_totp_secret()), now)
        secret = self.sealer.unseal(stored)
        return secret, domain.totp_uri(secret, user.email or user.id)

    def confirm_totp(self, user_id: str, code: str, now: datetime) -> tuple[list[str], AccountView]:
        acct = store.load(self.engine, store.get_user(self.engine, user_id).id)
        if acct.totp_secret:
            raise Conflict("已启用两步验证", "TOTP is already enabled", code="totp_already_enabled")
        if not acct.totp_pending:
            raise Conflict("请先开始绑定两步验证", "start the TOTP enrolment first", code="totp_not_started")
        step = domain.totp_step(self.sealer.unseal(acct.totp_pending), code, now, 0)
        if step is None:
            raise ValidationFailed([FieldViolation("code", "验证码不正确", "the code is wrong")])
        codes = domain.new_recovery_codes()
        if not store.confirm_totp(self.engine, user_id, acct.totp_pending, step,
                                  [domain.recovery_hash(c) for c in codes], now,
                                  secret=self.sealer.reseal(acct.totp_pending)):
            raise Conflict("绑定已被另一次操作替换，请重新开始", "the enrolment was restarted elsewhere; start again",
                           code="totp_not_started")
        log.info("account.totp_enabled", user_id=user_id)
        return codes, self.account(user_id)

    def disable_totp(self, user_id: str, code: str, *, by_admin: bool, now: datetime) -> AccountView:
        view = self.account(user_id)
        acct = view.state
        if not by_admin:
            if not acct.totp_secret:
                raise Conflict("尚未启用两步验证", "TOTP is not enabled", code="totp_not_enabled")
            if view.totp_required:
                raise Conflict("您的角色要求使用两步验证，不能停用", "your role requires TOTP; it cannot be disabled",
                               code="totp_required_by_role")
            if acct.locked(now):
                raise ValidationFailed([FieldViolation("code", "账号已锁定，请稍后再试", "the account is locked")])
            refused = self._second_factor(acct, code, now)
            if refused is not None and refused.outcome != OK:
                raise ValidationFailed([FieldViolation("code", "验证码不正确", "the code is wrong")])
        store.disable_totp(self.engine, user_id, now)
        log.info("account.totp_disabled", user_id=user_id, by_admin=by_admin)
        return self.account(user_id)

    # ---- settings --------------------------------------------------------------------------

    def settings(self) -> AuthSettingsRow:
        return store.get_settings(self.engine)

    def put_settings(self, roles: list[str], actor_id: str, now: datetime) -> AuthSettingsRow:
        return store.put_settings(self.engine, totp_required_roles=domain.normalise_roles(roles), actor_id=actor_id,
                                  now=now)

    def retire_bootstrap_token(self, fingerprint: str, actor_id: str, now: datetime) -> AuthSettingsRow:
        fingerprint = fingerprint.strip().lower()
        if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
            raise ValidationFailed([FieldViolation("fingerprint", "需要令牌的 SHA-256（64 位十六进制）",
                                                   "the token's SHA-256 (64 hex digits) is required")])
        row = store.retire_bootstrap_token(self.engine, fingerprint=fingerprint, actor_id=actor_id, now=now)
        log.warning("account.bootstrap_token_retired", by=actor_id, fingerprint=fingerprint[:12])
        return row
