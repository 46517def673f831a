"""Request and response models of local accounts: password sign-in, setup links, TOTP, account
state and the sign-in settings."""

from __future__ import annotations

from pydantic import Field

from edge.schemas import Model
from edge.schemas_identity import SignInResult

LOGIN_MAX, PASSWORD_MAX, CODE_MAX, TOKEN_MAX = 320, 1024, 64, 200


class LoginIn(Model):
    login: str = Field(min_length=1, max_length=LOGIN_MAX, description="User id, e-mail or mobile number",
                       examples=["zhangsan"])
    password: str = Field(min_length=1, max_length=PASSWORD_MAX, examples=["correct horse battery staple"])
    totp_code: str | None = Field(default=None, max_length=CODE_MAX,
                                  description="The authenticator's 6-digit code (or a recovery code) when the "
                                              "account has two-step verification")


class PasswordSignInResult(SignInResult):
    totp_enrolment_required: bool = Field(
        default=False, description="A role of the user requires TOTP and none is enrolled: until "
        "`POST /api/v1/me/totp` + `/confirm`, other /api/v1 calls answer 403 `totp_enrolment_required`")
    recovery_codes_left: int | None = Field(default=None, description="Set when a recovery code was used")


class SetupIn(Model):
    token: str = Field(min_length=1, max_length=TOKEN_MAX, description="The token of the invite / reset link")
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    totp_code: str | None = Field(default=None, max_length=CODE_MAX,
                                  description="Needed when the account has two-step verification")


class ForgotIn(Model):
    login: str = Field(min_length=1, max_length=LOGIN_MAX, description="User id, e-mail or mobile number")


class Accepted(Model):
    message: str


class PasswordChangeIn(Model):
    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class PasswordChanged(Model):
    ended: int = Field(description="Other browser sessions of the user that were signed out")


class SetupLinkOut(Model):
    url: str = Field(description="Single-use link to set the password; hand it over privately if not e-mailed")
    purpose: str = Field(description="invite | reset")
    expires_at: str
    emailed: bool = Field(description="Sent to the user's e-mail address as well")


class AccountOut(Model):
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
    secret: str = Field(description="Base32 secret, for typing into the authenticator app")
    otpauth_uri: str
    qr_svg: str = Field(description="The otpauth URI as a QR code (inline SVG)")


class TotpCodeIn(Model):
    code: str = Field(min_length=1, max_length=CODE_MAX, description="A current code (or a recovery code)")


class TotpConfirmed(Model):
    account: AccountOut
    recovery_codes: list[str] = Field(description="Shown once: each replaces a code once")


class AuthSettingsIn(Model):
    totp_required_roles: list[str] = Field(max_length=200, description="Users holding any of these roles must "
                                           "enrol TOTP before anything else after signing in with a password",
                                           examples=[["admin", "finance"]])


class AuthSettingsOut(Model):
    totp_required_roles: list[str]
    bootstrap_token_retired: bool = Field(description="The configured BAOBEI_ADMIN_TOKEN is refused")
    bootstrap_token_retired_at: str | None = None
    bootstrap_token_retired_by: str | None = None
    version: int
    updated_at: str | None = None
    updated_by: str | None = None
