"""Outgoing webhooks signed per the Standard Webhooks spec (https://www.standardwebhooks.com/).

Headers: ``webhook-id`` (the delivery id: the same on every retry, so receivers dedupe),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature`` — one
``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`` per valid secret, space separated, so a
receiver holding either key of a rotation verifies (signing uses the ``standardwebhooks``
package). Secrets are ``whsec_<base64>``.

The target is SSRF-checked before each attempt (``check_target``); redirects are not followed.
Outcomes: 2xx delivered; 408/429/5xx and transport errors retryable (Retry-After honoured);
every other status permanent."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

from services.notify.channels.base import (
    DeliveryFailed,
    check_target,
    json_body,
    make_client,
    mask_url,
    post,
)

__all__ = ["WebhookSender", "check_target", "sign", "DeliveryFailed"]

SECRET_PREFIX = "whsec_"


def sign(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<b64>`` per non-empty secret, space separated."""
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    data = body.decode()
    signatures = [Webhook(secret).sign(msg_id, when, data) for secret in secrets if secret]
    if not signatures:
        raise DeliveryFailed("webhook subscription has no signing secret", retryable=False)
    return " ".join(signatures)


def headers_for(secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
    }


class WebhookSender:
    def __init__(self, *, timeout: float = 10.0, allow_internal: bool = False) -> None:
        self._timeout = timeout
        self._allow_internal = allow_internal

    def send(
        self, url: str, secrets: list[str], msg_id: str, payload: dict[str, Any], timestamp: int | None = None
    ) -> None:
        check_target(url, allow_internal=self._allow_internal)
        body = json_body(payload)
        ts = int(time.time()) if timestamp is None else timestamp
        try:
            headers = headers_for(secrets, msg_id, ts, body)
        except (ValueError, TypeError) as err:  # a secret that is not base64
            raise DeliveryFailed(f"webhook {mask_url(url)}: bad signing secret ({type(err).__name__})",
                                 retryable=False) from None
        with make_client(self._timeout) as client:
            post(client, url, body, what="webhook", headers=headers)
