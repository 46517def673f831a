"""Request and response models of local accounts: password sign-in, setup links, TOTP, account
state and the sign-in settings."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import Model
from edge.schemas_identity import SIGN_IN_EXAMPLE, SignInResult

LOGIN_MAX, PASSWORD_MAX, CODE_MAX, TOKEN_MAX = 320, 1024, 64, 200

# Example data (zh-CN) for /openapi.json.
LINK_TOKEN_EXAMPLE = "KVfqZmXfRLTvXsKxU4YvUa1-9lcGRfiX4wz7wNL7ANc"
ACCOUNT_EXAMPLE: dict[str, Any] = {
    "user_id": "zhangsan", "has_password": True, "password_set_at": "2026-11-02T01:05:00Z", "totp_enabled": True,
    "totp_required": False, "failed_count": 0, "locked_until": None, "last_sign_in_at": "2026-12-01T00:58:13Z",
    "recovery_codes_left": 9,
}
LOCKED_ACCOUNT_EXAMPLE: dict[str, Any] = {
    "user_id": "lisi", "has_password": True, "password_set_at": "2026-10-09T03:00:00Z", "totp_enabled": False,
    "totp_required": False, "failed_count": 7, "locked_until": "2026-12-01T09:20:00Z",
    "last_sign_in_at": "2026-11-28T07:41:02Z", "recovery_codes_left": 0,
}
TOTP_SECRET_EXAMPLE = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
OTPAUTH_EXAMPLE = ("otpauth://totp/Baobei%20%E6%8A%A5%E5%A4%87:zhangsan%40example.com"
                   f"?secret={TOTP_SECRET_EXAMPLE}&issuer=Baobei%20%E6%8A%A5%E5%A4%87")


class LoginIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"login": "zhangsan", "password": "correct horse battery staple"},
        {"login": "zhangsan@example.com", "password": "correct horse battery staple", "totp_code": "492039"},
    ]})

    login: str = Field(min_length=1, max_length=LOGIN_MAX, description="User id, e-mail or mobile number",
                       examples=["zhangsan"])
    password: str = Field(min_length=1, max_length=PASSWORD_MAX, examples=["correct horse battery staple"])
    totp_code: str | None = Field(default=None, max_length=CODE_MAX,
                                  description="The authenticator's 6-digit code (or a recovery code) when the "
                                              "account has two-step verification")


class PasswordSignInResult(SignInResult):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {**SIGN_IN_EXAMPLE, "totp_enrolment_required": False, "recovery_codes_left": None}]})

    totp_enrolment_required: bool = Field(
        default=False, description="A role of the user requires TOTP and none is enrolled: until "
        "`POST /api/v1/me/totp` + `/confirm`, other /api/v1 calls answer 403 `totp_enrolment_required`")
    recovery_codes_left: int | None = Field(default=None, description="Set when a recovery code was used")


class SetupIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"token": LINK_TOKEN_EXAMPLE, "password": "紫藤花开-2026-南京路"}]})

    token: str = Field(min_length=1, max_length=TOKEN_MAX, description="The token of the invite / reset link")
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    totp_code: str | None = Field(default=None, max_length=CODE_MAX,
                                  description="Needed when the account has two-step verification")


class ForgotIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"login": "zhangsan@example.com"}]})

    login: str = Field(min_length=1, max_length=LOGIN_MAX, description="User id, e-mail or mobile number")


class Accepted(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"message": "如果该账号存在并登记了邮箱，重置密码的链接已发送。"}]})

    message: str


class PasswordChangeIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"current_password": "correct horse battery staple", "new_password": "紫藤花开-2026-南京路"}]})

    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class PasswordChanged(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ended": 1}]})

    ended: int = Field(description="Other browser sessions of the user that were signed out")


class SetupLinkOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"url": f"https://baobei.example.com/auth/password/setup?token={LINK_TOKEN_EXAMPLE}", "purpose": "invite",
         "expires_at": "2026-12-04T08:30:00Z", "emailed": True}]})

    url: str = Field(description="Single-use link to set the password; hand it over privately if not e-mailed")
    purpose: str = Field(description="invite | reset")
    expires_at: str
    emailed: bool = Field(description="Sent to the user's e-mail address as well")


class AccountOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [ACCOUNT_EXAMPLE, LOCKED_ACCOUNT_EXAMPLE]})

    user_id: str
    has_password: bool
    password_set_at: str | None = None
    totp_enabled: bool
    totp_required: bool = Field(description="A role of the user requires TOTP")
    failed_count: int = Field(description="Consecutive failed sign-ins since the last success")
    locked_until: str | None = None
    last_sign_in_at: str | None = None
    recovery_codes_left: int


class TotpStartOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"secret": TOTP_SECRET_EXAMPLE, "otpauth_uri": OTPAUTH_EXAMPLE,
         "qr_svg": "<?xml version='1.0' encoding='UTF-8'?>\n<svg width=\"42.4mm\" height=\"42.4mm\" version=\"1.1\" "
                   "viewBox=\"0 0 42.4 42.4\" xmlns=\"http://www.w3.org/2000/svg\"><path d=\"M1.6,1.6H2.4V2.4H1.6z"
                   "…\" id=\"qr-path\" fill=\"#000000\" fill-opacity=\"1\" fill-rule=\"nonzero\" stroke=\"none\" />"
                   "</svg>"}]})

    secret: str = Field(description="Base32 secret, for typing into the authenticator app")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code (inline SVG)")


class TotpCodeIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492039"}, {"code": "35b1e-925aa"}]})

    code: str = Field(min_length=1, max_length=CODE_MAX, description="A current code (or a recovery code)")


class TotpConfirmed(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "account": {**ACCOUNT_EXAMPLE, "recovery_codes_left": 10},
        "recovery_codes": ["35b1e-925aa", "00f3e-32e3f", "24dfa-0adfb", "640bc-fcb1e", "78bdc-bfb90", "25850-8af45",
                           "bb132-823fa", "0960d-82ae8", "260b0-9cf87", "6cc2a-c5e5a"]}]})

    account: AccountOut
    recovery_codes: list[str] = Field(description="Shown once: each replaces a code once")


class AuthSettingsIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"totp_required_roles": ["admin", "finance"]}]})

    totp_required_roles: list[str] = Field(max_length=200, description="Users holding any of these roles must "
                                           "enrol TOTP before anything else after signing in with a password",
                                           examples=[["admin", "finance"]])


class AuthSettingsOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"totp_required_roles": ["admin", "finance"], "bootstrap_token_retired": True,
         "bootstrap_token_retired_at": "2026-11-05T02:00:00Z", "bootstrap_token_retired_by": "wangwu",
         "version": 4, "updated_at": "2026-11-20T06:30:00Z", "updated_by": "wangwu"}]})

    totp_required_roles: list[str]
    bootstrap_token_retired: bool = Field(description="The configured BAOBEI_ADMIN_TOKEN is refused")
    bootstrap_token_retired_at: str | None = None
    bootstrap_token_retired_by: str | None = None
    version: int
    updated_at: str | None = None
    updated_by: str | None = None
