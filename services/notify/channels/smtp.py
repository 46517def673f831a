"""E-mail over SMTP: one connection per message (plain, STARTTLS or implicit TLS, optional AUTH).

The mail is multipart/alternative (text/plain, then text/html when given), UTF-8 throughout —
headers such as a zh-CN Subject or a display name are RFC 2047 encoded by the ``email`` package's
SMTP policy — with Date and Message-ID (``<delivery id@sender domain>``, the same on every retry).

Outcomes: SMTP 4xx replies, connection errors and timeouts are retryable; 5xx replies (unknown
mailbox, refused sender, authentication failed, …) are permanent."""

from __future__ import annotations

import email.policy
import email.utils
import functools
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage

from services.notify.channels.base import DeliveryFailed, EmailMessage


def _domain_of(sender: str) -> str:
    address = email.utils.parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


def message_id_of(message_id: str, sender: str) -> str:
    if not message_id:
        return email.utils.make_msgid(domain=_domain_of(sender))
    if message_id.startswith("<") and message_id.endswith(">"):
        return message_id
    if "@" in message_id:
        return f"<{message_id}>"
    return f"<{message_id}@{_domain_of(sender)}>"


def build_message(msg: EmailMessage, sender: str) -> MimeMessage:
    mime = MimeMessage(policy=email.policy.SMTP)
    mime["From"] = sender
    mime["To"] = msg.to
    mime["Subject"] = msg.subject
    mime["Date"] = email.utils.formatdate(localtime=True)
    mime["Message-ID"] = message_id_of(msg.message_id, sender)
    mime["Auto-Submitted"] = "auto-generated"
    # base64 bodies: safe through relays without 8BITMIME.
    mime.set_content(msg.text, charset="utf-8", cte="base64")
    if msg.html:
        mime.add_alternative(msg.html, subtype="html", charset="utf-8", cte="base64")
    return mime


@functools.cache
def tls_context() -> ssl.SSLContext:
    # The system's trust store (relays are often inside the company, under its own CA); built once.
    return ssl.create_default_context()


def _reply_failure(code: int, what: str) -> DeliveryFailed:
    return DeliveryFailed(f"smtp: {what} ({code})", retryable=not 500 <= code < 600)


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str = "",
        password: str = "",
        starttls: bool = False,
        ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self._host = host
        self._port = port
        self._sender = sender
        self._username = username
        self._password = password
        self._starttls = starttls
        self._ssl = ssl
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"SmtpSender({self._host}:{self._port})"

    def _connect(self) -> smtplib.SMTP:
        if self._ssl:
            return smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=tls_context()
            )
        conn = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._starttls:
            conn.starttls(context=tls_context())
        return conn

    def send(self, msg: EmailMessage) -> None:
        if not msg.to or "@" not in msg.to:
            raise DeliveryFailed(f"smtp: no valid recipient address ({msg.to!r})", retryable=False)
        if not self._host:
            raise DeliveryFailed("smtp: no SMTP host configured (BAOBEI_SMTP_HOST)", retryable=False)
        mime = build_message(msg, self._sender)
        try:
            with self._connect() as conn:
                if self._username:
                    conn.login(self._username, self._password)
                refused = conn.send_message(mime)
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            code = max(codes) if codes else 550
            raise _reply_failure(code, f"recipient {msg.to} refused") from None
        except smtplib.SMTPAuthenticationError as err:
            raise _reply_failure(err.smtp_code, "authentication failed") from None
        except smtplib.SMTPSenderRefused as err:
            raise _reply_failure(err.smtp_code, f"sender {self._sender} refused") from None
        except smtplib.SMTPResponseException as err:  # data error, connect error, HELO error …
            raise _reply_failure(err.smtp_code, _text(err.smtp_error)) from None
        except smtplib.SMTPNotSupportedError as err:
            raise DeliveryFailed(f"smtp: {err}", retryable=False) from None
        except (smtplib.SMTPException, OSError) as err:  # disconnects, timeouts, refused connections, TLS
            raise DeliveryFailed(f"smtp {self._host}:{self._port}: {type(err).__name__} {err}".strip(),
                                 retryable=True) from None
        if refused:
            code = max(c for c, _ in refused.values())
            raise _reply_failure(code, f"recipient {msg.to} refused")


def _text(value: bytes | str) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
    return text[:200]


__all__ = ["SmtpSender", "build_message", "message_id_of"]
