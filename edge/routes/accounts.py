"""Local accounts under /api/v1: the caller's password and two-step verification (TOTP), an
admin's view of a user's account (state, unlock, invite and reset links, TOTP reset), and the
sign-in settings (roles that must use TOTP; retiring the bootstrap admin token)."""

from __future__ import annotations

import io
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import Request

from baobei.core.errors import FieldViolation, Forbidden, ValidationFailed
from baobei.registry.v1 import accounts_service_pb2 as accounts_pb2
from edge import audit, auth, bootstrap_token, mapping, sessions, setup_links
from edge.client_address import client_ip
from edge.clients import Clients as EdgeClients
from edge.deps import AdminUser, Clients, CurrentUser
from edge.errors import RateLimited
from edge.idempotency import secret_response
from edge.openapi_examples import (
    ACCOUNT_LOCKED,
    ACCOUNT_REQUIRED,
    ADMIN_REQUIRED,
    CODE_WRONG,
    CSRF_FAILED,
    USER_LEFT,
    USER_NOT_FOUND,
    ErrorExample,
    error_examples,
)
from edge.routes import area_router
from edge.schemas_accounts import (
    AccountOut,
    AuthSettingsIn,
    AuthSettingsOut,
    PasswordChanged,
    PasswordChangeIn,
    SetupLinkOut,
    TotpCodeIn,
    TotpConfirmed,
    TotpStartOut,
)

router = area_router("accounts")
TOTP_ALREADY_ENABLED = ErrorExample(409, "totp_already_enabled", "已启用两步验证，请先停用再重新绑定")


class AccountLocked(RateLimited):
    """Too many failed sign-ins: 429 ``account_locked`` with ``Retry-After`` (the contract's
    limit answer; 423 is WebDAV's and clients rarely honour its Retry-After)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.code = "account_locked"
        self.zh = f"登录失败次数过多，账号已暂时锁定，请 {self.retry_after} 秒后再试"
        self.en = f"too many failed sign-ins: the account is locked, retry in {self.retry_after} s"


def account_out(a: accounts_pb2.Account) -> dict[str, Any]:
    return {"user_id": a.user_id, "has_password": a.has_password, "password_set_at": mapping.ts(a.password_set_at),
            "totp_enabled": a.totp_enabled, "totp_required": a.totp_required, "failed_count": a.failed_count,
            "locked_until": mapping.ts(a.locked_until), "last_sign_in_at": mapping.ts(a.last_sign_in_at),
            "recovery_codes_left": a.recovery_codes_left}


def settings_out(s: accounts_pb2.AuthSettings, admin_token: str) -> dict[str, Any]:
    mine = bootstrap_token.fingerprint(admin_token) if admin_token else ""
    retired = next((r for r in s.retired_bootstrap_tokens if r.fingerprint == mine), None)
    return {"totp_required_roles": list(s.totp_required_roles), "bootstrap_token_retired": retired is not None,
            "bootstrap_token_retired_at": mapping.ts(retired.retired_at) if retired else None,
            "bootstrap_token_retired_by": (retired.retired_by or None) if retired else None,
            "version": s.version, "updated_at": mapping.ts(s.updated_at), "updated_by": s.updated_by or None}


def _with_account(user_id: str) -> None:
    """The bootstrap admin is no org user: it has no account."""
    if user_id == auth.ADMIN_ID:
        raise Forbidden("引导管理员令牌没有账号，请用管理员账号登录后操作",
                        "the bootstrap admin token has no account; sign in with an admin account",
                        code="account_required")


async def _account(clients: EdgeClients, user_id: str) -> dict[str, Any]:
    return account_out(await clients.accounts.GetAccount(accounts_pb2.GetAccountRequest(user_id=user_id)))


# ---- the caller --------------------------------------------------------------------------------


@router.get("/me/account", response_model=AccountOut, responses=error_examples(ACCOUNT_REQUIRED))
async def my_account(user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """The caller's local account: password set, two-step verification, lockout state."""
    _with_account(user.id)
    return await _account(clients, user.id)


@router.post("/me/password", response_model=PasswordChanged, responses=error_examples(
    ErrorExample(422, "validation_failed", "输入校验失败", (("current_password", "当前密码不正确"),)),
    ErrorExample(422, "validation_failed", "输入校验失败", (
        ("new_password", "该密码过于常见或出现在已泄露的密码中，请换一个"),)),
    ACCOUNT_LOCKED, CSRF_FAILED))
async def change_password(body: PasswordChangeIn, request: Request, user: CurrentUser,
                          clients: Clients) -> dict[str, int]:
    """Change the caller's password (the current one is checked; a wrong one counts towards the
    lockout). The caller's other browser sessions end; this one stays."""
    _with_account(user.id)
    req = accounts_pb2.ChangePasswordRequest(user_id=user.id, current_password=body.current_password,
                                             new_password=body.new_password)
    req.now.FromDatetime(auth.now())
    resp = await clients.accounts.ChangePassword(req)
    ip = client_ip(request.scope)
    if resp.outcome == accounts_pb2.SignInResponse.LOCKED:
        raise AccountLocked(resp.retry_after_seconds)
    if resp.outcome != accounts_pb2.SignInResponse.OK:
        await audit.record(clients, "password.change", actor_id=user.id, outcome="failure", target_type="user",
                           target_id=user.id, details={"reason": "current_password_wrong"}, ip=ip)
        raise ValidationFailed([FieldViolation("current_password", "当前密码不正确", "the current password is wrong")])
    ended = await sessions.store_of(request).revoke_user(user.id, keep=user.session_id)
    await audit.record(clients, "password.changed", actor_id=user.id, target_type="user", target_id=user.id,
                       details={"sessions_ended": ended}, ip=ip)
    return {"ended": ended}


def qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buf = io.BytesIO()
    image.save(buf)
    return buf.getvalue().decode()


@router.post("/me/totp", response_model=TotpStartOut, responses=error_examples(TOTP_ALREADY_ENABLED, ACCOUNT_REQUIRED))
@secret_response("secret", "otpauth_uri", "qr_svg")
async def start_totp(user: CurrentUser, clients: Clients) -> dict[str, str]:
    """Start enrolling an authenticator app: the secret, its otpauth URI and QR code (SVG); the
    same until confirmed with a code from the app (`POST /api/v1/me/totp/confirm`). 409
    `totp_already_enabled` when one is active."""
    _with_account(user.id)
    resp = await clients.accounts.StartTotp(accounts_pb2.StartTotpRequest(user_id=user.id))
    return {"secret": resp.secret, "otpauth_uri": resp.uri, "qr_svg": qr_svg(resp.uri)}


@router.post("/me/totp/confirm", response_model=TotpConfirmed, responses=error_examples(
    CODE_WRONG, ErrorExample(409, "totp_not_started", "请先开始绑定两步验证")))
@secret_response("recovery_codes")
async def confirm_totp(body: TotpCodeIn, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Activate two-step verification with a current code (422 naming `code` when wrong). Answers
    10 recovery codes, shown only here. A session held back by `totp_enrolment_required` is free
    from now on."""
    _with_account(user.id)
    req = accounts_pb2.ConfirmTotpRequest(user_id=user.id, code=body.code)
    req.now.FromDatetime(auth.now())
    resp = await clients.accounts.ConfirmTotp(req)
    if user.session_id:
        await sessions.store_of(request).lift_restriction(request.cookies.get(sessions.COOKIE, ""))
    await audit.record(clients, "totp.enabled", actor_id=user.id, target_type="user", target_id=user.id,
                       ip=client_ip(request.scope))
    return {"account": account_out(resp.account), "recovery_codes": list(resp.recovery_codes)}


@router.delete("/me/totp", response_model=AccountOut, responses=error_examples(
    CODE_WRONG, ErrorExample(409, "totp_required_by_role", "您的角色要求使用两步验证，不能停用")))
async def disable_totp(body: TotpCodeIn, request: Request, user: CurrentUser, clients: Clients) -> dict[str, Any]:
    """Turn two-step verification off with a current code or a recovery code (422 naming `code`
    otherwise); 409 `totp_required_by_role` when a role of the caller requires it."""
    _with_account(user.id)
    req = accounts_pb2.DisableTotpRequest(user_id=user.id, code=body.code)
    req.now.FromDatetime(auth.now())
    resp = await clients.accounts.DisableTotp(req)
    await audit.record(clients, "totp.disabled", actor_id=user.id, target_type="user", target_id=user.id,
                       ip=client_ip(request.scope))
    return account_out(resp)


# ---- admins --------------------------------------------------------------------------------------


@router.get("/users/{user_id}/account", response_model=AccountOut,
            responses=error_examples(USER_NOT_FOUND, ADMIN_REQUIRED))
async def user_account(user_id: str, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """A user's local account (admin; 404 for an unknown user)."""
    return await _account(clients, user_id)


@router.post("/users/{user_id}/unlock", response_model=AccountOut,
             responses=error_examples(USER_NOT_FOUND, ADMIN_REQUIRED))
async def unlock(user_id: str, request: Request, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Lift a lockout and forget the failed sign-ins (admin)."""
    resp = await clients.accounts.Unlock(accounts_pb2.UnlockRequest(user_id=user_id))
    await audit.record(clients, "account.unlocked", actor_id=admin.id, target_type="user", target_id=user_id,
                       ip=client_ip(request.scope))
    return account_out(resp)


@router.delete("/users/{user_id}/totp", response_model=AccountOut,
               responses=error_examples(USER_NOT_FOUND, ADMIN_REQUIRED))
async def reset_totp(user_id: str, request: Request, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Remove a user's two-step verification (admin: a lost phone). Users of a role that requires
    it enrol again at their next sign-in."""
    req = accounts_pb2.DisableTotpRequest(user_id=user_id, by_admin=True)
    req.now.FromDatetime(auth.now())
    resp = await clients.accounts.DisableTotp(req)
    await audit.record(clients, "totp.reset", actor_id=admin.id, target_type="user", target_id=user_id,
                       ip=client_ip(request.scope))
    return account_out(resp)


async def _link(purpose: str, user_id: str, request: Request, admin: Any, clients: EdgeClients) -> dict[str, Any]:
    resp = await setup_links.issue(clients, purpose=purpose, actor_id=admin.id, user_id=user_id)
    url = setup_links.setup_url(clients, resp.token)
    emailed = await setup_links.send_mail(clients, resp.user, purpose, url, resp.expires_at)
    await audit.record(clients, f"account.{purpose}_link", actor_id=admin.id, target_type="user", target_id=user_id,
                       details={"emailed": emailed}, ip=client_ip(request.scope))
    return {"url": url, "purpose": purpose, "expires_at": mapping.ts(resp.expires_at), "emailed": emailed}


@router.post("/users/{user_id}/invite", status_code=201, response_model=SetupLinkOut, responses=error_examples(
    ErrorExample(409, "password_already_set", "该用户已设置密码，请改用重置密码"), USER_LEFT, USER_NOT_FOUND))
@secret_response("url")
async def invite(user_id: str, request: Request, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """A single-use link for the user to set their first password (72 h by default), e-mailed to
    them when they have an address and answered here (hand it over privately otherwise). A newer
    link replaces older ones. 409 `password_already_set` (send a reset instead), `user_left`."""
    return await _link("invite", user_id, request, admin, clients)


@router.post("/users/{user_id}/password-reset", status_code=201, response_model=SetupLinkOut,
             responses=error_examples(USER_NOT_FOUND, USER_LEFT, ADMIN_REQUIRED))
@secret_response("url")
async def password_reset(user_id: str, request: Request, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """A single-use link to set a new password (1 h by default), e-mailed and answered as for
    invites. Using it signs the user out everywhere."""
    return await _link("reset", user_id, request, admin, clients)


@router.get("/auth-settings", response_model=AuthSettingsOut, responses=error_examples(ADMIN_REQUIRED))
async def get_auth_settings(admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Sign-in settings (admin)."""
    s = await clients.accounts.GetAuthSettings(accounts_pb2.GetAuthSettingsRequest())
    return settings_out(s, clients.settings.admin_token)


@router.put("/auth-settings", response_model=AuthSettingsOut, responses=error_examples(
    ErrorExample(422, "validation_failed", "输入校验失败", (
        ("totp_required_roles[1]", "角色名不能为空且不超过 100 个字符"),)),
    ADMIN_REQUIRED))
async def put_auth_settings(body: AuthSettingsIn, request: Request, admin: AdminUser,
                            clients: Clients) -> dict[str, Any]:
    """Set the roles whose users must use two-step verification (admin). Such a user without it
    is asked to enrol right after signing in with a password."""
    s = await clients.accounts.PutAuthSettings(accounts_pb2.PutAuthSettingsRequest(
        totp_required_roles=body.totp_required_roles, actor_id=admin.id))
    await audit.record(clients, "auth_settings.changed", actor_id=admin.id, target_type="auth_settings",
                       details={"totp_required_roles": list(s.totp_required_roles)}, ip=client_ip(request.scope))
    return settings_out(s, clients.settings.admin_token)


@router.post("/auth-settings/retire-bootstrap-token", response_model=AuthSettingsOut, responses=error_examples(
    ACCOUNT_REQUIRED, ErrorExample(403, "no_bootstrap_token", "未配置引导管理员令牌")))
async def retire_bootstrap_token(request: Request, admin: AdminUser, clients: Clients) -> dict[str, Any]:
    """Refuse the configured bootstrap admin token from now on (401 `bootstrap_token_retired`), on
    every edge replica. Only an admin signed in with an account may do it (403 `account_required`
    for the bootstrap token itself), so someone can still administer afterwards."""
    _with_account(admin.id)
    token = clients.settings.admin_token
    if not token:
        raise Forbidden("未配置引导管理员令牌", "no bootstrap admin token is configured", code="no_bootstrap_token")
    s = await clients.accounts.RetireBootstrapToken(accounts_pb2.RetireBootstrapTokenRequest(
        actor_id=admin.id, fingerprint=bootstrap_token.fingerprint(token)))
    await bootstrap_token.remember(clients, token, True)
    await audit.record(clients, "bootstrap_token.retired", actor_id=admin.id, target_type="auth_settings",
                       ip=client_ip(request.scope))
    return settings_out(s, token)
