"""Checking a login and password against LDAP / Active Directory with ldap3 (blocking: the route
runs :func:`authenticate` in a thread).

1. Connect (``ldap://`` or ``ldaps://``, optionally StartTLS; certificates and host names always
   checked), bind as the service account (or anonymously without one).
2. Search ``base_dn`` with ``user_filter``, the login escaped (RFC 4515: ``*``, ``(``, ``)``, ``\\``
   and NUL cannot change the filter). Exactly one entry must answer.
3. Bind as that entry's DN with the password, on a connection of its own. An empty password is
   refused before any bind: LDAP treats a simple bind with a DN and no password as an
   "unauthenticated bind", which many servers accept.
4. Read the stable subject (entryUUID, AD's binary objectGUID as its usual text form, or the DN)
   and the attribute compared with the org user on first sign-in.

Every way of failing is a :class:`DomainError` with its own code: 401 ``invalid_credentials`` for
a wrong password and for a login the directory does not know (the same answer, so logins cannot be
probed); 503 ``ldap_unavailable`` when no server answers; 502 ``ldap_bind_failed`` /
``ldap_config_invalid`` / ``ldap_tls_failed`` for what the admin must fix."""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import ldap3
import structlog
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from baobei.core.errors import Unauthenticated
from edge.errors import ServiceUnavailable, UpstreamFailed
from edge.sso.configs import LdapConfig, LdapSecrets

log = structlog.get_logger(__name__)

MAX_LOGIN = 256
_INVALID_CREDENTIALS = 49
_SIZE_LIMIT_EXCEEDED = 4


@dataclass(frozen=True)
class LdapPerson:
    dn: str
    subject: str  # the stable id the identity link is keyed on
    match_value: str  # match_attribute's first value ("" when absent)


class InvalidCredentials(Unauthenticated):
    """401 for the caller; ``reason`` (unknown_login, wrong_password, ...) goes to the audit only."""

    def __init__(self, reason: str) -> None:
        super().__init__("用户名或密码错误", "wrong login or password", code="invalid_credentials")
        self.reason = reason


class LdapUnavailable(ServiceUnavailable):
    def __init__(self, detail: str) -> None:
        log.warning("ldap.unavailable", detail=detail)
        super().__init__("无法连接 LDAP 服务器，请稍后重试", "the LDAP server cannot be reached, retry later",
                         code="ldap_unavailable")
        self.reason = self.code


class LdapMisconfigured(UpstreamFailed):
    """Something the admin must fix in the provider's settings (or the directory's ACLs)."""

    def __init__(self, code: str, zh: str, en: str, detail: str = "") -> None:
        log.warning("ldap.misconfigured", code=code, detail=detail)
        super().__init__(zh, en, code=code)
        self.reason = code


_TLS_FAILED = ("ldap_tls_failed", "LDAP TLS 握手失败（证书或主机名不符）",
               "the LDAP TLS handshake failed (certificate or host name)")


def user_filter(template: str, login: str) -> str:
    """The search filter with the login escaped (never ``str.format``: filters hold braces too)."""
    return template.replace("{login}", escape_filter_chars(login))


def subject_of(attribute: str, dn: str, values: list[bytes]) -> str:
    """The stable subject as text: the DN lower-cased (``dn``); AD's objectGUID (16 bytes,
    little-endian fields) in its registry form; any other attribute as text."""
    if attribute.lower() in ("dn", "distinguishedname") and not values:
        return dn.lower()
    if values and attribute.lower() == "objectguid" and len(values[0]) == 16:
        return str(uuid.UUID(bytes_le=values[0]))
    return text_of(values)


def text_of(values: list[bytes]) -> str:
    """The first value as UTF-8 text (hex when it is not text), "" when there is none."""
    if not values:
        return ""
    try:
        return values[0].decode("utf-8").strip()
    except UnicodeDecodeError:
        return values[0].hex()


def authenticate(config: LdapConfig, secrets: LdapSecrets, login: str, password: str) -> LdapPerson:
    """The person behind ``login`` if ``password`` is theirs; else raise (see the module doc)."""
    login = login.strip()
    if not login or not password:
        # Never bind with an empty password (an unauthenticated bind would "succeed").
        raise InvalidCredentials("empty_password" if login else "empty_login")
    if config.bind_dn and not secrets.bind_password:
        raise LdapMisconfigured("ldap_bind_failed", "LDAP 服务账号未设置密码（bind_password）",
                                "the LDAP service account has no bind_password")
    try:
        return _authenticate(config, secrets, login, password)
    except (InvalidCredentials, LdapUnavailable, LdapMisconfigured):
        raise
    except Exception as err:  # ldap3 can fail in many ways on an answer that is not LDAP
        raise LdapUnavailable(f"{type(err).__name__}: {err}") from err


def _authenticate(config: LdapConfig, secrets: LdapSecrets, login: str, password: str) -> LdapPerson:
    service, server = _connect(config, config.bind_dn, secrets.bind_password)
    try:
        if not _bind(service):
            code, text = _result(service)
            raise LdapMisconfigured("ldap_bind_failed", "LDAP 服务账号登录失败，请管理员检查 bind_dn / bind_password",
                                    "the LDAP service account cannot bind: check bind_dn / bind_password",
                                    f"{code} {text}")
        entry = _find(service, config, login)
    finally:
        _close(service)
    person = LdapPerson(
        dn=entry["dn"],
        subject=subject_of(config.subject_attribute, entry["dn"], _values(entry, config.subject_attribute)),
        match_value=text_of(_values(entry, config.match_attribute)),
    )
    if not person.subject:
        raise LdapMisconfigured("ldap_config_invalid", f"LDAP 条目缺少属性 {config.subject_attribute}",
                                f"the LDAP entry has no {config.subject_attribute}", person.dn)
    # The person's own bind, on a connection of its own to the server that found them.
    user, _ = _connect(config, person.dn, password, servers=[server])
    try:
        if not _bind(user):
            code, _text = _result(user)
            # 49 = invalidCredentials (AD adds why: expired, locked, disabled); any refusal is one answer.
            raise InvalidCredentials("wrong_password" if code == _INVALID_CREDENTIALS else f"bind_refused:{code}")
    finally:
        _close(user)
    return person


def _servers(config: LdapConfig) -> list[ldap3.Server]:
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=config.ca_pem or None,
                    version=ssl.PROTOCOL_TLS_CLIENT)
    return [ldap3.Server(url, get_info=ldap3.NONE, tls=tls, connect_timeout=config.timeout_seconds)
            for url in config.url.split()]


def _connect(config: LdapConfig, user: str, password: str,
             servers: list[ldap3.Server] | None = None) -> tuple[ldap3.Connection, ldap3.Server]:
    """An open connection (StartTLS done) to the first server of the list that answers; a TLS
    failure is the admin's to fix and stops there (no falling back to another server)."""
    problem = "no LDAP server configured"
    for server in servers or _servers(config):
        conn = ldap3.Connection(
            server, user=user or None, password=password or None,
            authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
            read_only=True, auto_referrals=False, raise_exceptions=False, receive_timeout=config.timeout_seconds,
        )
        try:
            conn.open()
            if config.start_tls and not conn.start_tls():
                raise ldap_errors.LDAPStartTLSError(str(conn.result))
            return conn, server
        except ldap_errors.LDAPException as err:
            _close(conn)
            if isinstance(err, ldap_errors.LDAPStartTLSError) or any(
                    word in str(err).lower() for word in ("ssl", "certificate", "tls")):
                raise LdapMisconfigured(*_TLS_FAILED, str(err)) from err
            problem = f"{server.host}:{server.port}: {err}"
    raise LdapUnavailable(problem)


def _result(conn: ldap3.Connection) -> tuple[int, str]:
    result: dict[str, Any] = conn.result or {}
    return int(result.get("result", -1)), f"{result.get('description', '')} {result.get('message', '')}".strip()


def _bind(conn: ldap3.Connection) -> bool:
    try:
        return bool(conn.bind())
    except ldap_errors.LDAPCommunicationError as err:
        raise LdapUnavailable(str(err)) from err


def _find(conn: ldap3.Connection, config: LdapConfig, login: str) -> dict[str, Any]:
    try:
        conn.search(config.base_dn, user_filter(config.user_filter, login), ldap3.SUBTREE,
                    attributes=[a for a in (config.subject_attribute, config.match_attribute) if a.lower() != "dn"],
                    size_limit=2, time_limit=config.timeout_seconds)
    except ldap_errors.LDAPCommunicationError as err:
        raise LdapUnavailable(str(err)) from err
    except ldap_errors.LDAPException as err:  # e.g. a user_filter ldap3 cannot parse
        raise LdapMisconfigured("ldap_config_invalid", "LDAP 搜索条件有误（base_dn / user_filter）",
                            "the LDAP search is invalid (base_dn / user_filter)", str(err)) from err
    code, text = _result(conn)
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    if code not in (0, _SIZE_LIMIT_EXCEEDED):
        raise LdapMisconfigured("ldap_config_invalid", "LDAP 搜索失败（base_dn / user_filter / 服务账号权限）",
                            "the LDAP search failed (base_dn / user_filter / service account rights)",
                            f"{code} {text}")
    if not entries:
        raise InvalidCredentials("unknown_login")
    if len(entries) > 1 or code == _SIZE_LIMIT_EXCEEDED:
        # Several people under one login: never guess which one (the admin narrows user_filter).
        raise InvalidCredentials("ambiguous_login")
    return dict(entries[0])


def _values(entry: dict[str, Any], attribute: str) -> list[bytes]:
    raw: dict[str, list[bytes]] = entry.get("raw_attributes") or {}
    for name, values in raw.items():
        if name.lower() == attribute.lower():
            return list(values)
    return []


def _close(conn: ldap3.Connection) -> None:
    try:
        if not conn.closed:
            conn.unbind()
    except ldap_errors.LDAPException:
        pass
