"""Request and response models of sessions, sign-in methods and sign-in providers."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from edge.schemas import Model


class SessionOut(Model):
    id: str = Field(description="Public handle of the session (never the cookie)")
    method: str = Field(description="How the user signed in: password, oidc, ldap, dingtalk, wecom, feishu")
    provider: str | None = Field(default=None, description="Provider key for SSO methods")
    created_at: str
    last_seen_at: str
    expires_at: str = Field(description="Idle deadline (moves on with each request)")
    absolute_expires_at: str
    ip: str
    user_agent: str
    current: bool = Field(description="The session of this request")


class SessionList(Model):
    items: list[SessionOut]


class SessionsEnded(Model):
    ended: int


class SignOutEverywhereIn(Model):
    keep_current: bool = Field(default=False, description="Keep this browser signed in")


class MeUser(Model):
    id: str
    name: str
    department_id: str | None = None
    roles: list[str]
    is_admin: bool


class MeOut(Model):
    user: MeUser
    auth_method: str = Field(description="token, password, oidc, ldap, dingtalk, wecom or feishu")
    session: SessionOut | None = None
    csrf_token: str | None = Field(default=None, description="Send as X-CSRF-Token on state-changing requests")


class SignInResult(Model):
    user: MeUser
    csrf_token: str = Field(description="Send as X-CSRF-Token on state-changing requests made with the cookie")
    session: SessionOut


class MethodOut(Model):
    key: str
    type: str
    name: str
    start_url: str = Field(description="GET it to start (redirect flows) or POST a login form to it (ldap)")


class MethodsOut(Model):
    password: bool = Field(description="Local accounts (login + password) are accepted")
    providers: list[MethodOut]


class ProviderIn(Model):
    type: str = Field(description="oidc, ldap, dingtalk, wecom or feishu", examples=["oidc"])
    name: str = Field(default="", max_length=200, description="Shown on the sign-in page", examples=["公司统一登录"])
    enabled: bool = True
    config: dict[str, Any] = Field(default_factory=dict, examples=[{
        "issuer": "https://sso.example.com/realms/corp", "client_id": "baobei", "match_claim": "email",
        "match_field": "email"}])
    secrets: dict[str, str] = Field(default_factory=dict, description="Write-only; omitted ones are kept",
                                    examples=[{"client_secret": "…"}])
    clear_secrets: list[str] = Field(default_factory=list, description="Secrets to remove")


class ProviderOut(Model):
    key: str
    type: str
    name: str
    enabled: bool
    config: dict[str, Any]
    secrets_set: list[str] = Field(description="Names of the secrets that are set (values are never shown)")
    version: int
    updated_at: str | None = None
    updated_by: str | None = None
    start_url: str
    callback_url: str | None = Field(default=None, description="Register this redirect URL with the provider")


class ProviderList(Model):
    items: list[ProviderOut]


class IdentityLinkOut(Model):
    provider_key: str
    subject: str
    display: str
    linked_at: str | None = None
    last_sign_in_at: str | None = None


class IdentityLinkList(Model):
    items: list[IdentityLinkOut]
