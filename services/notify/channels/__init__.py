"""Protocol clients of the notify service's external channels (synchronous: they run inside the
notify gRPC service's worker threads).

- ``smtp.SmtpSender`` — e-mail over SMTP (multipart text + HTML, UTF-8 headers).
- ``dingtalk.DingTalkRobot`` — DingTalk custom robot, signed (timestamp + secret, HMAC-SHA256).
- ``wecom.WeComRobot`` — WeCom group robot; the ``key`` in its URL is a secret (``mask_url``).
- ``webhook.WebhookSender`` — outgoing webhooks signed per the Standard Webhooks spec.

Every failure is a ``base.DeliveryFailed`` saying whether a retry may succeed
(``retryable``) and, when the peer said so, after how long (``retry_after`` seconds)."""

from services.notify.channels.base import DeliveryFailed, EmailMessage, RobotMessage

__all__ = ["DeliveryFailed", "EmailMessage", "RobotMessage"]
