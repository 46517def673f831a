"""Configuration of each provider type as an admin PUTs it: non-secret ``config`` and write-only
``secrets``, one pair of models per type. Each type's flow module documents what it reads."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


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
    """LDAP / Active Directory bind (edge/sso/ldap_directory.py): search ``base_dn`` for the one
    entry ``user_filter`` finds (as the service account, or anonymously without ``bind_dn``), bind
    as it with the password given, and key the person on ``subject_attribute``."""

    url: str = Field(min_length=1, pattern=r"^(?i:ldaps?://\S+)(\s+(?i:ldaps?://\S+))*$",
                     description="ldap://host:389 or ldaps://host:636; several separated by spaces are tried in order")
    bind_dn: str = Field(default="", description="Service account used to search (empty: anonymous search)")
    base_dn: str = Field(min_length=1)
    user_filter: str = Field(default="(uid={login})", pattern=r"^\(.*\{login\}.*\)$",
                             description="{login} is replaced by the escaped login. OpenLDAP: (uid={login}); "
                                         "AD: (&(objectClass=user)(sAMAccountName={login}))")
    subject_attribute: str = Field(default="entryUUID", pattern=r"^[A-Za-z][A-Za-z0-9-]*$",
                                   description="Stable id: entryUUID (OpenLDAP), objectGUID (AD), or dn")
    match_attribute: str = Field(default="mail", pattern=r"^[A-Za-z][A-Za-z0-9-]*$",
                                 description="LDAP attribute compared with match_field on first sign-in")
    start_tls: bool = Field(default=False, description="Upgrade ldap:// with StartTLS (not with ldaps://)")
    ca_pem: str = Field(default="", description="CA certificate(s), PEM, trusted for ldaps/StartTLS "
                                                "(empty: the system's CAs); the host name is always checked")
    timeout_seconds: int = Field(default=5, ge=1, le=60, description="Connect and per-operation timeout (seconds)")

    @field_validator("start_tls")
    @classmethod
    def _tls_once(cls, start_tls: bool, info: ValidationInfo) -> bool:
        if start_tls and any(u.lower().startswith("ldaps://") for u in str(info.data.get("url", "")).split()):
            raise ValueError("start_tls is for ldap:// URLs; ldaps:// is already TLS")
        return start_tls


class LdapSecrets(_Secrets):
    bind_password: str = Field(default="", description="The service account's password (bind_dn)")


_URL = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"


class ImConfig(MatchRule):
    """DingTalk / WeCom / Feishu enterprise (self-built) app; what each reads is in
    edge/sso/dingtalk.py, wecom.py and feishu.py."""

    match_field: str = Field(default="id", pattern="^(id|email|mobile)$",
                             description="id: the platform userid is the Baobei user id (org sync); email / mobile")
    app_id: str = Field(min_length=1, max_length=128,
                        description="DingTalk AppKey (Client ID) / WeCom CorpID / Feishu App ID")
    agent_id: str = Field(default="", max_length=64, description="WeCom AgentId (required for WeCom)")
    corp_id: str = Field(default="", max_length=128,
                         description="DingTalk CorpId: in-app sign-in (JSAPI requestAuthCode) and the org check")
    api_base: str = Field(default="", pattern=f"^$|{_URL}",
                          description="Server API base URL (empty: the platform's public ones)")
    auth_base: str = Field(default="", pattern=f"^$|{_URL}",
                           description="Authorization (QR / in-app login page) base URL (empty: the platform's)")
    jsapi_url: str = Field(default="", pattern=f"^$|{_URL}",
                           description="DingTalk in-app page: URL of the DingTalk JSAPI script (empty: the one the "
                                       "DingTalk client injects, else the OAuth page inside the client)")


class WeComConfig(ImConfig):
    agent_id: str = Field(min_length=1, max_length=64, description="WeCom AgentId of the self-built app")


class ImSecrets(_Secrets):
    app_secret: str = ""


CONFIG_MODELS: dict[str, tuple[type[_Config], type[_Secrets]]] = {
    "oidc": (OidcConfig, OidcSecrets),
    "ldap": (LdapConfig, LdapSecrets),
    "dingtalk": (ImConfig, ImSecrets),
    "wecom": (WeComConfig, ImSecrets),
    "feishu": (ImConfig, ImSecrets),
}
# Where a browser starts signing in with each type (LDAP posts a login form instead).
START_PATHS = {"ldap": "/auth/ldap/{key}/login"}
DEFAULT_START_PATH = "/auth/sso/{key}/start"


def start_path(type_: str, key: str) -> str:
    return START_PATHS.get(type_, DEFAULT_START_PATH).format(key=key)
