"""A local SMTP sink for development and tests: accepts every mail (aiosmtpd) and keeps it as an
``.eml`` file under a mail directory (``<data_dir>/mails`` under ``baobei dev``), written
atomically (temporary file, then rename), so a reader never sees half a mail.

Each file is the message exactly as received, preceded by two envelope headers
(``X-Sink-Envelope-From``, ``X-Sink-Envelope-To``). File names ``<ns timestamp>-<random>.eml``
sort in arrival order; the stem is the mail's id.

- ``serve(host, port, mail_dir)`` — run in the foreground until SIGINT/SIGTERM (``baobei smtp-sink``).
- ``start(host, port, mail_dir)`` — run in a background thread (tests); returns the aiosmtpd
  ``Controller`` (``.stop()``; ``.port`` the bound port).
- ``list_mails(mail_dir, limit=None)`` — parsed mails, newest first (``baobei mails``)."""

from __future__ import annotations

import email
import email.policy
import os
import secrets
import signal
import socket
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

ENVELOPE_FROM = "X-Sink-Envelope-From"
ENVELOPE_TO = "X-Sink-Envelope-To"


def store_mail(mail_dir: Path, content: bytes, *, mail_from: str = "", rcpt_tos: list[str] | None = None) -> str:
    """Write one received mail; returns its id."""
    mail_dir.mkdir(parents=True, exist_ok=True)
    mail_id = f"{time.time_ns()}-{secrets.token_hex(4)}"
    envelope = f"{ENVELOPE_FROM}: {mail_from}\r\n{ENVELOPE_TO}: {', '.join(rcpt_tos or [])}\r\n".encode()
    fd, tmp = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=mail_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(envelope + content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, mail_dir / f"{mail_id}.eml")
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return mail_id


class MailDirHandler:
    """aiosmtpd handler: every mail goes to ``mail_dir``."""

    def __init__(self, mail_dir: Path) -> None:
        self.mail_dir = Path(mail_dir)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not content:
            content = envelope.content
        store_mail(self.mail_dir, content, mail_from=envelope.mail_from or "", rcpt_tos=list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _controller(handler: object, host: str, port: int) -> Controller:
    return Controller(handler, hostname=host, port=port, enable_SMTPUTF8=True, ready_timeout=10.0)


def start(host: str, port: int, mail_dir: Path, handler: object | None = None) -> Controller:
    """Start the sink in a background thread (port 0 = a free one, read ``.port`` after)."""
    if port == 0:
        with socket.socket() as s:
            s.bind((host, 0))
            port = int(s.getsockname()[1])
    controller = _controller(handler or MailDirHandler(mail_dir), host, port)
    controller.start()
    return controller


def serve(host: str, port: int, mail_dir: Path) -> None:
    """Run the sink until SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    controller = start(host, port, mail_dir)
    print(f"SMTP sink on {host}:{controller.port}; mails in {Path(mail_dir).resolve()}", flush=True)
    try:
        stop.wait()
    finally:
        controller.stop()


def _part(msg: EmailMessage, subtype: str) -> str:
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode(errors="replace")
    return text.replace("\r\n", "\n")


def parse_mail(path: Path) -> dict[str, Any]:
    """One stored mail as a dict: id, file, from, to, envelope_from, envelope_to, subject (decoded),
    date, message_id, text, html."""
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return {
        "id": path.stem,
        "file": str(path),
        "from": str(msg.get("From", "")),
        "to": str(msg.get("To", "")),
        "envelope_from": str(msg.get(ENVELOPE_FROM, "")),
        "envelope_to": [a.strip() for a in str(msg.get(ENVELOPE_TO, "")).split(",") if a.strip()],
        "subject": str(msg.get("Subject", "")),
        "date": str(msg.get("Date", "")),
        "message_id": str(msg.get("Message-ID", "")).strip(),
        "text": _part(msg, "plain"),
        "html": _part(msg, "html"),
    }


def list_mails(mail_dir: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Stored mails, newest first (at most ``limit``); an absent directory has none."""
    mail_dir = Path(mail_dir)
    if not mail_dir.is_dir():
        return []
    paths = sorted(mail_dir.glob("*.eml"), key=lambda p: p.name, reverse=True)
    if limit is not None:
        paths = paths[: max(0, limit)]
    return [parse_mail(p) for p in paths]
