"""Talking to one OpenID Connect provider: its discovery document and signing keys (cached in
Redis, shared by every edge replica), the code exchange at its token endpoint, the userinfo
endpoint, and the validation of the ID token (Authlib's OIDC claim rules on joserfc, the JOSE
library Authlib itself builds on). Every outgoing call has a timeout; whatever the provider does
wrong becomes an :class:`SsoError` with its own code (502 when the provider failed), never a 500."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import structlog
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from redis.asyncio import Redis

from edge.sso.configs import OidcConfig
from edge.sso.errors import SsoError

log = structlog.get_logger(__name__)
_PREFIX = "baobei:edge:sso:oidc:"
# Only public-key signatures: never "none", never a MAC keyed with the client secret.
ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
MAX_SUBJECT = 300  # identity_link.subject


def now() -> float:
    """The clock ID tokens are judged by (a seam: tests move it)."""
    return time.time()


@dataclass
class Metadata:
    """What the flow needs of a provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str = ""
    token_auth_methods: list[str] = field(default_factory=list)
    signing_algs: list[str] = field(default_factory=list)


def unavailable(what: str, detail: str = "") -> SsoError:
    log.warning("oidc.provider_failed", what=what, detail=detail[:300])
    return SsoError(502, "sso_provider_unavailable", f"登录服务暂不可用（{what}），请稍后重试",
                    f"the sign-in provider failed ({what}); retry later")


def _misconfigured(what: str) -> SsoError:
    log.warning("oidc.discovery_invalid", what=what)
    return SsoError(502, "sso_discovery_invalid", f"登录服务的配置信息无效：{what}，请联系管理员",
                    f"the provider's discovery document is invalid: {what}; ask an admin")


def token_invalid(reason: str, zh: str, en: str) -> SsoError:
    return SsoError(403, "sso_id_token_invalid", f"身份令牌无效：{zh}", f"the ID token is invalid: {en}",
                    field=f"id_token.{reason}")


def http_client(timeout: float) -> httpx.AsyncClient:
    """Provider calls: bounded in time, redirects not followed (an endpoint that moves is an error)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False,
                             headers={"Accept": "application/json", "User-Agent": "Baobei-OIDC/1"})


async def _get_json(http: httpx.AsyncClient, url: str, what: str, **kwargs: Any) -> dict[str, Any]:
    try:
        resp = await http.get(url, **kwargs)
    except httpx.HTTPError as err:
        raise unavailable(what, repr(err)) from err
    if resp.status_code != 200:
        raise unavailable(what, f"HTTP {resp.status_code}")
    try:
        data = resp.json()
    except ValueError as err:
        raise unavailable(what, "not JSON") from err
    if not isinstance(data, dict):
        raise unavailable(what, "not a JSON object")
    return data


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _url(doc: dict[str, Any], name: str, *, required: bool = True) -> str:
    value = doc.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http") or not urlsplit(value).hostname:
        raise _misconfigured(f"{name} missing or not a URL")
    return value


def _strings(doc: dict[str, Any], name: str) -> list[str]:
    value = doc.get(name) or []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


async def metadata(redis: Redis, http: httpx.AsyncClient, issuer: str, ttl: int) -> Metadata:
    """The provider's endpoints from ``{issuer}/.well-known/openid-configuration`` (cached)."""
    key = _PREFIX + "discovery:" + _digest(issuer)
    cached = await redis.get(key)
    if cached:
        return Metadata(**json.loads(cached))
    doc = await _get_json(http, issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
    published = doc.get("issuer")
    # OIDC Discovery 4.3: the document must name the issuer it was fetched for (trailing "/" aside).
    if not isinstance(published, str) or published.rstrip("/") != issuer.rstrip("/"):
        raise _misconfigured(f"issuer {str(published)[:100]!r} is not {issuer!r}")
    found = Metadata(
        issuer=published, authorization_endpoint=_url(doc, "authorization_endpoint"),
        token_endpoint=_url(doc, "token_endpoint"), jwks_uri=_url(doc, "jwks_uri"),
        userinfo_endpoint=_url(doc, "userinfo_endpoint", required=False),
        token_auth_methods=_strings(doc, "token_endpoint_auth_methods_supported"),
        signing_algs=_strings(doc, "id_token_signing_alg_values_supported"),
    )
    await redis.set(key, json.dumps(asdict(found)), ex=max(1, ttl))
    return found


async def keys(redis: Redis, http: httpx.AsyncClient, md: Metadata, ttl: int, *, refresh: bool = False) -> KeySet:
    """The provider's signing keys (cached; ``refresh`` fetches them again, e.g. after a rotation)."""
    key = _PREFIX + "jwks:" + _digest(md.jwks_uri)
    doc = None if refresh else await redis.get(key)
    data = json.loads(doc) if doc else await _get_json(http, md.jwks_uri, "jwks")
    try:
        key_set = KeySet.import_key_set(data)  # type: ignore[arg-type]
    except (JoseError, KeyError, TypeError, ValueError) as err:
        raise _misconfigured("jwks holds no usable key") from err
    if not doc:
        await redis.set(key, json.dumps(data), ex=max(1, ttl))
    return key_set


def auth_method(config: OidcConfig, md: Metadata, secret: str) -> str:
    if config.token_auth_method != "auto":
        return config.token_auth_method
    if not secret:
        return "none"
    # RFC 8414/OIDC Discovery: client_secret_basic is the default when nothing is advertised.
    supported = md.token_auth_methods or ["client_secret_basic"]
    return "client_secret_post" if "client_secret_basic" not in supported and "client_secret_post" in supported \
        else "client_secret_basic"


async def exchange_code(http: httpx.AsyncClient, md: Metadata, config: OidcConfig, secret: str, *, code: str,
                        verifier: str, redirect_uri: str) -> dict[str, Any]:
    """The token response for ``code`` (authorization code grant with the PKCE verifier)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
            "code_verifier": verifier}
    method = auth_method(config, md, secret)
    auth: httpx.Auth | None = None
    if method == "client_secret_basic":
        # RFC 6749 2.3.1: id and secret are form-encoded before they are joined.
        auth = httpx.BasicAuth(quote(config.client_id, safe=""), quote(secret, safe=""))
    elif method == "client_secret_post":
        form |= {"client_id": config.client_id, "client_secret": secret}
    else:
        form["client_id"] = config.client_id
    try:
        resp = await http.post(md.token_endpoint, data=form, auth=auth)  # type: ignore[arg-type]
    except httpx.HTTPError as err:
        raise unavailable("token", repr(err)) from err
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code >= 500 or not isinstance(body, dict):
        raise unavailable("token", f"HTTP {resp.status_code}")
    error = body.get("error")
    if error or resp.status_code != 200:
        description = str(body.get("error_description") or "")[:200]
        log.info("oidc.token_refused", error=str(error)[:60], description=description)
        if error == "invalid_grant":
            raise SsoError(400, "sso_code_invalid", "授权码无效、已使用或已过期，请重新登录",
                           "the authorization code is invalid, used or expired; sign in again")
        raise SsoError(502, "sso_token_failed", f"登录服务拒绝换取令牌（{str(error)[:60]}），请联系管理员",
                       f"the provider refused the token request ({str(error)[:60]}: {description}); ask an admin")
    if not isinstance(body.get("id_token"), str):
        raise SsoError(502, "sso_token_failed", "登录服务未返回身份令牌（是否授予了 openid 范围？）",
                       "the provider returned no ID token (is the openid scope granted?)")
    return body


_REASONS = {
    "iss": ("签发方不符", "issued by another issuer"),
    "aud": ("不是签发给本系统的", "issued for another client (aud)"),
    "azp": ("授权方不符", "authorized party (azp) is another client"),
    "nonce": ("nonce 不符（可能是重放）", "nonce mismatch (a replay?)"),
    "exp": ("已过期", "expired"),
    "iat": ("签发时间在未来", "issued in the future"),
    "nbf": ("尚未生效", "not valid yet"),
    "at_hash": ("与访问令牌不符", "at_hash does not match the access token"),
    "sub": ("缺少用户标识", "no subject"),
}


def _claim_refusal(claim: str) -> SsoError:
    zh, en = _REASONS.get(claim, (f"声明 {claim} 无效", f"claim {claim} is invalid"))
    return token_invalid(claim if claim in _REASONS else "claims", zh, en)


async def validate_id_token(redis: Redis, http: httpx.AsyncClient, md: Metadata, config: OidcConfig, *,
                            id_token: str, nonce: str, access_token: str, ttl: int) -> dict[str, Any]:
    """The ID token's claims once its signature (the provider's keys), issuer, audience (our
    client id), expiry and issue time (with ``config.clock_skew_seconds`` of leeway) and nonce
    (the one this sign-in sent) are checked."""
    algs = [a for a in md.signing_algs if a in ASYMMETRIC_ALGS] or ["RS256"]
    registry = JWSRegistry(algorithms=algs, strict_check_header=False)
    key_set = await keys(redis, http, md, ttl)
    try:
        try:
            token = jwt.decode(id_token, key_set, registry=registry)
        except (InvalidKeyIdError, BadSignatureError):
            # The provider may have rotated its keys since we cached them: fetch once more.
            token = jwt.decode(id_token, await keys(redis, http, md, ttl, refresh=True), registry=registry)
    except (InvalidKeyIdError, BadSignatureError) as err:
        raise token_invalid("signature", "签名无法验证", "the signature does not verify") from err
    except (JoseError, ValueError) as err:
        raise token_invalid("format", "格式或算法不被接受", "malformed or unaccepted algorithm") from err
    claims = CodeIDToken(
        token.claims, token.header,
        options={"iss": {"essential": True, "value": md.issuer}, "aud": {"essential": True, "value": config.client_id},
                 "sub": {"essential": True}},
        params={"nonce": nonce, "client_id": config.client_id, "access_token": access_token},
    )
    try:
        claims.validate(now=int(now()), leeway=config.clock_skew_seconds)
    except ExpiredTokenError as err:
        raise _claim_refusal("exp") from err
    except (InvalidClaimError, MissingClaimError) as err:
        raise _claim_refusal(err.claim.split(",")[0]) from err
    except JoseError as err:
        raise token_invalid("claims", "声明无效", "invalid claims") from err
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise _claim_refusal("sub")
    return dict(claims)


async def userinfo(http: httpx.AsyncClient, md: Metadata, access_token: str, subject: str) -> dict[str, Any]:
    """Claims from the userinfo endpoint; they describe the ID token's user or are refused."""
    data = await _get_json(http, md.userinfo_endpoint, "userinfo", headers={"Authorization": f"Bearer {access_token}"})
    if data.get("sub") != subject:  # OIDC Core 5.3.2: substitution attack otherwise
        raise SsoError(403, "sso_id_token_invalid", "用户信息与身份令牌不是同一用户",
                       "the userinfo response is about another user than the ID token", field="userinfo.sub")
    return data
