"""Configuration of each provider type as an admin PUTs it: non-secret ``config`` and write-only
``secrets``, one pair of models per type. Each type's flow module documents what it reads."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Secrets(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchRule(_Config):
    """How an external identity finds its org user on first sign-in (then the link is kept)."""

    match_field: str = Field(default="email", pattern="^(id|email|mobile)$",
                             description="The org user attribute compared: id, email or mobile")


class OidcConfig(MatchRule):
    """OpenID Connect (authorization code + PKCE); read by ``edge.sso.oidc``."""

    issuer: str = Field(min_length=1, max_length=300,
                        description="Issuer URL (its /.well-known/openid-configuration is read); https, "
                                    "or http on loopback only")
    client_id: str = Field(min_length=1, max_length=300)
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"],
                              description="Requested scopes (openid is always added)")
    match_claim: str = Field(default="email", min_length=1,
                             description="ID-token/userinfo claim compared with match_field")
    userinfo: bool = Field(default=True, description="Also read the userinfo endpoint for claims the ID token "
                                                     "lacks (its sub must be the ID token's)")
    token_auth_method: str = Field(
        default="auto", pattern="^(auto|client_secret_basic|client_secret_post|none)$",
        description="Client authentication at the token endpoint; auto: basic or post as the provider "
                    "advertises, none without a client secret")
    clock_skew_seconds: int = Field(default=60, ge=0, le=600,
                                    description="Leeway allowed on the ID token's exp/iat/nbf")

    @field_validator("issuer")
    @classmethod
    def _secure_issuer(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not parts.hostname or parts.query or parts.fragment or not (
                parts.scheme == "https" or (parts.scheme == "http" and loopback)):
            raise ValueError("must be an https:// URL (http:// only on loopback), without query or fragment")
        return value.strip().rstrip("/")


class OidcSecrets(_Secrets):
    client_secret: str = Field(default="", description="Empty for a public client (PKCE only)")


class LdapConfig(MatchRule):
    url: str = Field(min_length=1, description="ldap://host:389 or ldaps://host:636")
    bind_dn: str = Field(default="", description="Service account used to search (empty: anonymous search)")
    base_dn: str = Field(min_length=1)
    user_filter: str = Field(default="(uid={login})", description="{login} is replaced by the escaped login")
    subject_attribute: str = Field(default="entryUUID", description="Stable id: entryUUID (OpenLDAP), objectGUID (AD)")
    match_attribute: str = Field(default="mail", description="LDAP attribute compared with match_field")
    start_tls: bool = False


class LdapSecrets(_Secrets):
    bind_password: str = ""


class ImConfig(MatchRule):
    """DingTalk / WeCom / Feishu enterprise app."""

    app_id: str = Field(min_length=1, description="DingTalk AppKey / WeCom CorpID / Feishu App ID")
    agent_id: str = Field(default="", description="WeCom AgentId / DingTalk AgentId")
    api_base: str = Field(default="", description="API base URL (empty: the platform's public one)")


class ImSecrets(_Secrets):
    app_secret: str = ""


CONFIG_MODELS: dict[str, tuple[type[_Config], type[_Secrets]]] = {
    "oidc": (OidcConfig, OidcSecrets),
    "ldap": (LdapConfig, LdapSecrets),
    "dingtalk": (ImConfig, ImSecrets),
    "wecom": (ImConfig, ImSecrets),
    "feishu": (ImConfig, ImSecrets),
}
# Where a browser starts signing in with each type (LDAP posts a login form instead).
START_PATHS = {"ldap": "/auth/ldap/{key}/login"}
DEFAULT_START_PATH = "/auth/sso/{key}/start"


def start_path(type_: str, key: str) -> str:
    return START_PATHS.get(type_, DEFAULT_START_PATH).format(key=key)
