"""A Standard Webhooks subscriber: verifies like a careful receiver and dedupes by webhook-id."""

from __future__ import annotations

import base64
import secrets as secrets_module
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.standins._http import HttpStandIn, Received, Refuse, Reply, Request


def new_secret() -> str:
    """A fresh ``whsec_<base64>`` secret."""
    return "whsec_" + base64.b64encode(secrets_module.token_bytes(24)).decode()


class WebhookSubscriber(HttpStandIn):
    """``POST /hooks``. Verifies the signature (``standardwebhooks``) with any of ``secrets``
    (rotation: two valid at once) and the timestamp window (5 minutes) → 401 otherwise; the body
    must be JSON (400). A webhook-id seen before counts in ``duplicates``, is answered 200 and not
    stored again (``received`` holds each id once)."""

    path = "/hooks"
    default_errcode = 400

    def __init__(self, secrets: list[str] | None = None, *, hang_seconds: float = 2.0) -> None:
        super().__init__(hang_seconds=hang_seconds, rate_limit=None)
        self.secrets = list(secrets) if secrets else [new_secret()]

    def platform_error(self, errcode: int, reason: str) -> Reply:
        return Reply(errcode if 400 <= errcode < 600 else 400, {"error": reason})

    def ok_body(self) -> dict[str, Any]:
        return {"ok": True}

    def verify(self, request: Request) -> Received:
        if request.method != "POST" or request.path != self.path:
            raise Refuse("not_found", Reply(404, {"error": "not found"}))
        errors = []
        for secret in self.secrets:
            try:
                payload = Webhook(secret).verify(request.body, request.headers)
                break
            except WebhookVerificationError as err:
                errors.append(str(err))
            except ValueError:
                raise Refuse("bad_json", Reply(400, {"error": "body is not JSON"})) from None
        else:
            raise Refuse("bad_signature:" + "; ".join(errors), Reply(401, {"error": errors[-1] if errors else "?"}))
        if not isinstance(payload, dict):
            raise Refuse("bad_json", Reply(400, {"error": "body is not a JSON object"}))
        return Received(payload, request.headers, request.query, request.at, request.body.decode(),
                        msg_id=request.headers["webhook-id"])

    def is_duplicate(self, msg: Received) -> bool:
        return any(r.msg_id == msg.msg_id for r in self.received)

    def keep_duplicate(self) -> bool:
        return False

    def ids(self) -> list[str]:
        return [r.msg_id for r in self.received]
