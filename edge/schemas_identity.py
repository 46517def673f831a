"""Request and response models of sessions, sign-in methods and sign-in providers."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import Model

# Example data (zh-CN) for /openapi.json.
SESSION_EXAMPLE: dict[str, Any] = {
    "id": "3f9a1c07d2e4b568", "method": "password", "provider": None,
    "created_at": "2026-12-01T08:30:00Z", "last_seen_at": "2026-12-01T09:15:42Z",
    "expires_at": "2026-12-01T11:15:42Z", "absolute_expires_at": "2026-12-01T20:30:00Z",
    "ip": "10.0.0.23", "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36", "current": True,
}
OTHER_SESSION_EXAMPLE: dict[str, Any] = {
    **SESSION_EXAMPLE, "id": "b27e40c95a1d3f86", "method": "dingtalk", "provider": "dingtalk",
    "created_at": "2026-11-30T01:02:03Z", "last_seen_at": "2026-11-30T02:10:00Z",
    "expires_at": "2026-11-30T04:10:00Z", "absolute_expires_at": "2026-11-30T13:02:03Z",
    "ip": "10.0.8.51", "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) DingTalk/7.6.30",
    "current": False,
}
ME_USER_EXAMPLE: dict[str, Any] = {"id": "zhangsan", "name": "张三", "department_id": "sales", "roles": ["sales"],
                                   "is_admin": False}
CSRF_EXAMPLE = "kq3V1n8mZp0xWc7Lr2Yt5Hs9Jb4Ud6Fg1Ae8Io3Nv0"
SIGN_IN_EXAMPLE: dict[str, Any] = {"user": ME_USER_EXAMPLE, "csrf_token": CSRF_EXAMPLE, "session": SESSION_EXAMPLE}
PROVIDER_EXAMPLE: dict[str, Any] = {
    "key": "corp-sso", "type": "oidc", "name": "公司统一登录", "enabled": True,
    "config": {"issuer": "https://sso.example.com/realms/corp", "client_id": "baobei", "scopes": ["openid", "profile",
               "email"], "match_claim": "email", "match_field": "email", "userinfo": True, "token_auth_method": "auto",
               "clock_skew_seconds": 60},
    "secrets_set": ["client_secret"], "version": 3, "updated_at": "2026-11-28T06:00:00Z", "updated_by": "admin",
    "start_url": "/auth/sso/corp-sso/start", "callback_url": "https://baobei.example.com/auth/sso/corp-sso/callback",
}
DINGTALK_PROVIDER_EXAMPLE: dict[str, Any] = {
    "key": "dingtalk", "type": "dingtalk", "name": "钉钉", "enabled": True,
    "config": {"match_field": "id", "app_id": "dingxxxxxxxxxxxxxxxx", "agent_id": "", "corp_id": "ding0123456789abcdef",
               "api_base": "", "auth_base": "", "jsapi_url": ""},
    "secrets_set": ["app_secret"], "version": 1, "updated_at": "2026-11-20T02:30:00Z", "updated_by": "admin",
    "start_url": "/auth/sso/dingtalk/start", "callback_url": "https://baobei.example.com/auth/sso/dingtalk/callback",
}


class SessionOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [SESSION_EXAMPLE]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [SESSION_EXAMPLE, OTHER_SESSION_EXAMPLE]}]})

    items: list[SessionOut]


class SessionsEnded(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"ended": 2}]})

    ended: int


class SignOutEverywhereIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"keep_current": True}]})

    keep_current: bool = Field(default=False, description="Keep this browser signed in")


class MeUser(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [ME_USER_EXAMPLE]})

    id: str
    name: str
    department_id: str | None = None
    roles: list[str]
    is_admin: bool


class MeOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"user": ME_USER_EXAMPLE, "auth_method": "password", "session": SESSION_EXAMPLE, "csrf_token": CSRF_EXAMPLE},
        {"user": {"id": "crm-bot", "name": "CRM 集成", "department_id": None, "roles": ["integrator"],
                  "is_admin": False}, "auth_method": "token", "session": None, "csrf_token": None},
    ]})

    user: MeUser
    auth_method: str = Field(description="token, password, oidc, ldap, dingtalk, wecom or feishu")
    session: SessionOut | None = None
    csrf_token: str | None = Field(default=None, description="Send as X-CSRF-Token on state-changing requests")


class SignInResult(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {**SIGN_IN_EXAMPLE, "session": {**SESSION_EXAMPLE, "method": "ldap", "provider": "corp-ldap"}}]})

    user: MeUser
    csrf_token: str = Field(description="Send as X-CSRF-Token on state-changing requests made with the cookie")
    session: SessionOut


class MethodOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"key": "corp-sso", "type": "oidc", "name": "公司统一登录", "start_url": "/auth/sso/corp-sso/start"}]})

    key: str
    type: str
    name: str
    start_url: str = Field(description="GET it to start (redirect flows) or POST a login form to it (ldap)")


class MethodsOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"password": True, "providers": [
        {"key": "corp-sso", "type": "oidc", "name": "公司统一登录", "start_url": "/auth/sso/corp-sso/start"},
        {"key": "corp-ldap", "type": "ldap", "name": "域账号", "start_url": "/auth/ldap/corp-ldap/login"},
        {"key": "dingtalk", "type": "dingtalk", "name": "钉钉", "start_url": "/auth/sso/dingtalk/start"},
    ]}]})

    password: bool = Field(description="Local accounts (login + password) are accepted")
    providers: list[MethodOut]


class ProviderIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"type": "oidc", "name": "公司统一登录", "enabled": True,
         "config": {"issuer": "https://sso.example.com/realms/corp", "client_id": "baobei", "match_claim": "email",
                    "match_field": "email"},
         "secrets": {"client_secret": "…"}, "clear_secrets": []},
        {"type": "dingtalk", "name": "钉钉", "enabled": True,
         "config": {"app_id": "dingxxxxxxxxxxxxxxxx", "corp_id": "ding0123456789abcdef", "match_field": "id"},
         "secrets": {"app_secret": "…"}, "clear_secrets": []},
    ]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [PROVIDER_EXAMPLE]})

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
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"items": [PROVIDER_EXAMPLE, DINGTALK_PROVIDER_EXAMPLE]}]})

    items: list[ProviderOut]


IDENTITY_LINK_EXAMPLE: dict[str, Any] = {
    "provider_key": "corp-sso", "subject": "f3c1a2b4-5d6e-4f70-8a9b-0c1d2e3f4a5b", "display": "zhangsan@example.com",
    "linked_at": "2026-11-02T01:20:00Z", "last_sign_in_at": "2026-12-01T00:58:13Z"}


class IdentityLinkOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [IDENTITY_LINK_EXAMPLE]})

    provider_key: str
    subject: str
    display: str
    linked_at: str | None = None
    last_sign_in_at: str | None = None
    platform_user_id: str | None = Field(
        default=None, description="IM providers: the person's user id on the platform, recorded at each sign-in "
                                  "(personal work notices are addressed to it)")


class IdentityLinkList(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [IDENTITY_LINK_EXAMPLE, {
        "provider_key": "dingtalk", "subject": "zhangsan", "display": "张三", "linked_at": "2026-11-20T03:00:00Z",
        "last_sign_in_at": None}]}]})

    items: list[IdentityLinkOut]
