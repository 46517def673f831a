"""What every channel client shares: the messages, the one failure type, URL masking, the SSRF
guard and the HTTP POST with its outcome mapping (2xx ok; 408/429/5xx/transport errors retryable,
honouring Retry-After; other statuses permanent; redirects never followed)."""

from __future__ import annotations

import email.utils
import ipaddress
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import certifi
import httpx


class DeliveryFailed(Exception):
    """A delivery attempt failed. ``retryable``: a later attempt may succeed (timeouts, 5xx, 429,
    SMTP 4xx, platform rate limits); otherwise the message can never be delivered as configured.
    ``retry_after``: seconds the peer asked us to wait, when it said so. The message never holds a
    secret (URLs are masked)."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"DeliveryFailed({self.message!r}, retryable={self.retryable}, retry_after={self.retry_after})"


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str = ""
    # Becomes the Message-ID header (the delivery id: the same on every retry, so a receiver or a
    # test can tell a duplicate from a second mail).
    message_id: str = ""


@dataclass(frozen=True)
class RobotMessage:
    title: str
    markdown: str
    action_url: str = ""
    at_mobiles: tuple[str, ...] = ()
    # (label, url) — e.g. (("同意", link), ("驳回", link)); both open the action-link page.
    buttons: tuple[tuple[str, str], ...] = ()


# Query parameters that are credentials: WeCom's key, DingTalk's access_token and signature, the
# app secret of WeCom's gettoken.
SECRET_PARAMS = frozenset({"key", "access_token", "sign", "corpsecret"})


def mask_secret(value: str) -> str:
    return value[:4] + "****" if value else ""


def mask_url(url: str) -> str:
    """The URL with every credential query parameter cut to its first 4 characters + ``****``,
    e.g. ``…/send?key=693a****``. Safe for logs and error messages."""
    try:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
    except ValueError:
        return "<unparseable url>"
    masked = [(k, mask_secret(v) if k.lower() in SECRET_PARAMS else v) for k, v in query]
    return urlunsplit(parts._replace(query=urlencode(masked, safe="*"), fragment=""))


# ---- SSRF guard ----


def _forbidden(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return bool(
        addr.is_loopback
        or addr.is_link_local
        or addr.is_private
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
        or not addr.is_global
    )


def refused_addresses(addresses: Iterable[str]) -> list[str]:
    """The addresses the SSRF guard refuses (loopback, link-local, private, multicast, reserved,
    unspecified, anything not globally routable)."""
    return [a for a in addresses if _forbidden(ipaddress.ip_address(a.split("%", 1)[0]))]


def check_target(url: str, *, allow_internal: bool) -> None:
    """Refuse (``DeliveryFailed``, not retryable) a URL that is not http(s), or whose host is, or
    resolves to, any internal address — unless ``allow_internal`` (tests, on-premises receivers).
    A name that does not resolve right now is a retryable failure. (The check and the connection
    resolve separately; DNS rebinding between the two is not caught.)"""
    masked = mask_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DeliveryFailed(f"invalid URL {masked}", retryable=False) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryFailed(f"target URL must be http(s): {masked}", retryable=False)
    if allow_internal:
        return
    host = parts.hostname.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise DeliveryFailed(f"target {host} is internal (loopback); set BAOBEI_WEBHOOK_ALLOW_INTERNAL=1 to allow it",
                             retryable=False)
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as err:
            raise DeliveryFailed(f"cannot resolve {host}: {err}", retryable=True) from None
        addresses = sorted({str(info[4][0]) for info in infos})
    bad = refused_addresses(addresses)
    if bad or not addresses:
        raise DeliveryFailed(
            f"target {host} resolves to a non-public address ({', '.join(bad) or 'none'}); "
            "set BAOBEI_WEBHOOK_ALLOW_INTERNAL=1 to allow it",
            retryable=False,
        )


# ---- HTTP ----

RETRYABLE_STATUS = frozenset({408, 425, 429})
USER_AGENT = "Baobei-Notify/1"


def retry_after_of(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def check_robot_answer(
    resp: httpx.Response, what: str, *, rate_limit_code: int, retryable_codes: Iterable[int], rate_retry_after: float,
    clean: Any = None,
) -> None:
    """Robots answer HTTP 200 with ``{"errcode", "errmsg"}``: 0 is success, the rate-limit code is
    retried after ``rate_retry_after``, ``retryable_codes`` are retried, anything else is final.
    ``what`` names the robot with its URL already masked; ``clean`` trims errmsg."""
    try:
        answer = resp.json()
        errcode = int(answer.get("errcode", 0))
        errmsg = str(answer.get("errmsg", ""))
    except (ValueError, AttributeError, TypeError):
        raise DeliveryFailed(f"{what}: answer is not JSON", retryable=True) from None
    if errcode == 0:
        return
    text = f"{what}: errcode {errcode} {clean(errmsg) if clean else errmsg}".strip()
    if errcode == rate_limit_code:
        raise DeliveryFailed(text, retryable=True, retry_after=rate_retry_after)
    raise DeliveryFailed(text, retryable=errcode in set(retryable_codes))


def json_body(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def post(
    client: httpx.Client, url: str, body: bytes, *, what: str, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """POST ``body`` (JSON) to ``url``; return a 2xx response or raise ``DeliveryFailed``.
    Messages name the target by ``mask_url`` only (the URL may carry a key)."""
    masked = mask_url(url)
    all_headers = {"content-type": "application/json; charset=utf-8", "user-agent": USER_AGENT, **(headers or {})}
    try:
        resp = client.post(url, content=body, headers=all_headers)
    except httpx.TimeoutException:
        raise DeliveryFailed(f"{what} {masked}: timed out", retryable=True) from None
    except httpx.HTTPError as err:
        # The exception text of transport errors does not hold the URL; its type says enough.
        raise DeliveryFailed(f"{what} {masked}: {type(err).__name__}", retryable=True) from None
    status = resp.status_code
    if 200 <= status < 300:
        return resp
    retry_after = retry_after_of(resp.headers.get("retry-after"))
    if 300 <= status < 400:
        raise DeliveryFailed(f"{what} {masked} answered {status} (redirects are not followed)", retryable=False)
    if status >= 500 or status in RETRYABLE_STATUS:
        raise DeliveryFailed(f"{what} {masked} answered {status}", retryable=True, retry_after=retry_after)
    raise DeliveryFailed(f"{what} {masked} answered {status}", retryable=False)


_tls: ssl.SSLContext | None = None
_tls_lock = threading.Lock()


def tls_context() -> ssl.SSLContext:
    # Building a verifying context loads the CA bundle (~0.1 s): once per process, not per send.
    global _tls
    with _tls_lock:
        if _tls is None:
            _tls = ssl.create_default_context(cafile=certifi.where())
        return _tls


def make_client(timeout: float) -> httpx.Client:
    return httpx.Client(timeout=timeout, follow_redirects=False, verify=tls_context())


class _MaskUrls(logging.Filter):
    """httpx logs every request's full URL at INFO ("HTTP Request: POST https://…?key=…"): mask
    credential query parameters in those records before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                mask_url(str(a)) if isinstance(a, httpx.URL) or (isinstance(a, str) and "://" in a) else a
                for a in record.args
            )
        return True


def _install_log_mask() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskUrls) for f in logger.filters):
            logger.addFilter(_MaskUrls())


_install_log_mask()
