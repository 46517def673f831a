"""Webhook delivery of rule fires, signed per the Standard Webhooks spec
(https://www.standardwebhooks.com/): headers ``webhook-id`` (the fire key, the same on every retry,
so receivers dedupe), ``webhook-timestamp`` (Unix seconds of this attempt) and
``webhook-signature`` = ``v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">`` keyed with the
base64-decoded part of the rule's secret ``whsec_<base64>``.

SSRF guard: the target's host is resolved and refused (non-retryable) when any address is loopback,
link-local, private, reserved, multicast or unspecified, unless ``BAOBEI_WEBHOOK_ALLOW_INTERNAL`` is
set; redirects are not followed. (The check and the connection resolve separately; a name whose
answer changes in between — DNS rebinding — is not caught.)

Outcomes: 2xx delivered; 408, 429, 5xx and transport errors raise a retryable error (the workflow's
retry policy backs off); any other status, or a refused target, is a non-retryable
``WebhookRefused``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1.tasks_service_pb2_grpc import TasksServiceStub
from workflows.activities._log import activity_logger
from workflows.activities.errors import call
from workflows.contracts.errors import WEBHOOK_REFUSED
from workflows.contracts.webhooks import WEBHOOK_DELIVER, WebhookDeliveryInput, WebhookDeliveryResult

SECRET_PREFIX = "whsec_"
# Receivers should refuse timestamps further than this from their clock (the spec's tolerance).
TOLERANCE_S = 5 * 60
RETRYABLE_STATUS = frozenset({408, 429})


class SignatureError(ValueError):
    pass


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: bytes, *, now: float | None = None) -> None:
    """What a receiver does: check the timestamp window and that one ``v1`` signature matches."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id, ts_text, signatures = (
        lower.get("webhook-id"),
        lower.get("webhook-timestamp"),
        lower.get("webhook-signature"),
    )
    if not msg_id or not ts_text or not signatures:
        raise SignatureError("missing webhook headers")
    try:
        ts = int(ts_text)
    except ValueError:
        raise SignatureError("bad timestamp") from None
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_S:
        raise SignatureError("timestamp outside the tolerance window")
    expected = sign(secret, msg_id, ts, body).split(",", 1)[1]
    for item in signatures.split():
        version, _, value = item.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise SignatureError("no matching signature")


def _forbidden(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (
        addr.is_loopback
        or addr.is_link_local
        or addr.is_private
        or addr.is_reserved
        or addr.is_multicast
        or addr.is_unspecified
        or not addr.is_global
    )


def refused_addresses(addresses: Iterable[str]) -> list[str]:
    """The addresses the SSRF guard refuses (loopback, link-local, private, reserved, ...)."""
    return [a for a in addresses if _forbidden(ipaddress.ip_address(a.split("%", 1)[0]))]


async def check_target(url: str, *, allow_internal: bool) -> None:
    """Raise ``WebhookRefused`` for a URL that is not http(s) or resolves to an internal address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError(f"webhook URL must be http(s): {url}", type=WEBHOOK_REFUSED, non_retryable=True)
    if allow_internal:
        return
    host = parts.hostname
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
        except socket.gaierror as err:  # a name that does not resolve now may later: retry
            raise RuntimeError(f"cannot resolve {host}: {err}") from None
        addresses = [str(info[4][0]) for info in infos]
    bad = refused_addresses(addresses)
    if bad or not addresses:
        raise ApplicationError(
            f"webhook target {host} resolves to a non-public address ({', '.join(bad)}); "
            "set BAOBEI_WEBHOOK_ALLOW_INTERNAL=1 to allow it",
            type=WEBHOOK_REFUSED,
            non_retryable=True,
        )


def body_of(inp: WebhookDeliveryInput) -> bytes:
    """The JSON body: the same bytes on every attempt (the timestamp header changes, not the body)."""
    message = {"type": "rule.fired", "data": {"key": inp.fire_key, "rule": inp.rule_key, **inp.data}}
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _secret_of(rules: Iterable[pb.RuleDoc], rule_key: str, url: str) -> str:
    for r in rules:
        if r.key != rule_key:
            continue
        for action in r.body.fields["actions"].list_value.values if "actions" in r.body.fields else []:
            fields = action.struct_value.fields
            if fields["type"].string_value == "webhook" and fields["url"].string_value == url:
                secret = fields["secret"].string_value if "secret" in fields else ""
                if secret:
                    return secret
    return ""


class WebhookActivities:
    """Posts rule fires to webhook URLs. The signing secret is read from the rule (tasks service)
    at delivery time, so it never travels through workflow histories."""

    def __init__(
        self,
        stub: TasksServiceStub,
        *,
        allow_internal: bool = False,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._stub = stub
        self._allow_internal = allow_internal
        self._timeout = timeout
        self._transport = transport

    @activity.defn(name=WEBHOOK_DELIVER)
    async def deliver(self, inp: WebhookDeliveryInput) -> WebhookDeliveryResult:
        log = activity_logger(inp.project_id)
        attempt = activity.info().attempt
        await check_target(inp.url, allow_internal=self._allow_internal)
        rules = await call(self._stub.ListRules, pb.ListRulesRequest(), timeout=self._timeout)
        secret = _secret_of(rules.rules, inp.rule_key, inp.url)
        if not secret:
            raise ApplicationError(
                f"rule {inp.rule_key} has no signing secret for {inp.url}", type=WEBHOOK_REFUSED, non_retryable=True
            )
        body = body_of(inp)
        ts = int(time.time())
        headers: dict[str, Any] = {
            "content-type": "application/json",
            "user-agent": "Baobei-Webhooks/1",
            "webhook-id": inp.fire_key,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, inp.fire_key, ts, body),
        }
        async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False, transport=self._transport) as http:
            try:
                resp = await http.post(inp.url, content=body, headers=headers)
            except httpx.HTTPError as err:
                log.warning("webhook.transport_error", url=inp.url, key=inp.fire_key, attempt=attempt, error=str(err))
                raise RuntimeError(f"webhook POST {inp.url} failed: {err}") from None
        if 200 <= resp.status_code < 300:
            log.info("webhook.delivered", url=inp.url, key=inp.fire_key, status=resp.status_code, attempt=attempt)
            return WebhookDeliveryResult(status=resp.status_code, attempt=attempt)
        log.warning("webhook.rejected", url=inp.url, key=inp.fire_key, status=resp.status_code, attempt=attempt)
        if resp.status_code >= 500 or resp.status_code in RETRYABLE_STATUS:
            raise RuntimeError(f"webhook {inp.url} answered {resp.status_code}")
        raise ApplicationError(
            f"webhook {inp.url} answered {resp.status_code}", type=WEBHOOK_REFUSED, non_retryable=True
        )
