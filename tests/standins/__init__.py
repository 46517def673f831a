"""Local stand-ins for the platforms notifications go to. Each verifies what the real platform
verifies and can fail on purpose. Every one is a context manager listening on 127.0.0.1 on a free
port (so senders need ``allow_internal=True`` / ``BAOBEI_WEBHOOK_ALLOW_INTERNAL=true``)::

    from tests.standins import DingTalkStandIn, WeComStandIn, WebhookSubscriber, SmtpStandIn

    with DingTalkStandIn(secret="SEC123") as ding:
        DingTalkRobot(ding.url, "SEC123", allow_internal=True).send(msg)
        [m] = ding.wait_for(1)           # m.payload (the JSON), m.text (title + text), m.at

Common API (HTTP stand-ins):

- ``.url`` — the robot / subscriber URL to configure (DingTalk: with ``access_token``; WeCom:
  with ``key``; webhook: ``/hooks``). ``.port``.
- ``.received`` — accepted messages (``Received``: payload dict, headers, query, at, text,
  msg_id). ``.rejected`` — refused requests (``Rejected``: reason, status, errcode, body, at).
  ``.requests`` — every request, ``.duplicates`` — accepted messages already seen (robots:
  identical payload; webhook: same webhook-id, answered 200 and not stored again),
  ``.rate_limited`` — requests refused by the per-robot rate limit.
- ``.fail_next(n=1, mode="500", errcode=None)`` — modes "500", "429" (Retry-After:
  ``.retry_after``, default "1"), "400", "timeout" (hold ``hang_seconds`` then 500, message not
  accepted), "slow" (message accepted, answer held ``hang_seconds``), "errcode" (HTTP 200 with a
  platform errcode; default -1 "system busy"; webhook: HTTP 400 or the given 4xx/5xx).
- ``.max_in_window(window=60)`` — most messages accepted in any window; ``.wait_for(n,
  timeout)``; ``.containing(text)``.

Platform checks:

- ``DingTalkStandIn(secret="", keywords=(), rate_limit=20)`` — access_token (300001);
  timestamp within 1 hour and ``sign`` (310000); keywords (310000); payload shape (40035);
  ≤ 20 accepted per 60 s (130101). Helpers ``DingTalkStandIn.buttons(m)``, ``.at_mobiles(m)``.
- ``WeComStandIn(rate_limit=20)`` — ``key`` (93000); markdown / template_card text_notice shape
  (40058, 40008); ≤ 20 per 60 s (45009). ``.key`` is the secret key.
- ``WebhookSubscriber(secrets=None)`` — Standard Webhooks signature with any configured secret and
  a 5-minute timestamp window (401); dedupes on webhook-id. ``new_secret()`` makes a whsec_ key.
- ``SmtpStandIn(mail_dir=None)`` — the project's SMTP sink with ``fail_next(n, "4xx"|"5xx"|
  "timeout")``; ``.host``, ``.port``, ``.received`` (parsed mails, oldest first),
  ``.duplicates`` (by Message-ID), ``.wait_for(n)``.
"""

from tests.standins._http import HttpStandIn, Received, Rejected
from tests.standins.robots import DingTalkStandIn, WeComStandIn
from tests.standins.smtp import SmtpStandIn
from tests.standins.webhook import WebhookSubscriber, new_secret

__all__ = [
    "DingTalkStandIn",
    "HttpStandIn",
    "Received",
    "Rejected",
    "SmtpStandIn",
    "WeComStandIn",
    "WebhookSubscriber",
    "new_secret",
]
