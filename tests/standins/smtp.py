"""An SMTP receiver: the project's sink (``cli.smtp_sink``) with failure injection."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections import Counter, deque
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cli import smtp_sink

SMTP_MODES = ("4xx", "5xx", "timeout")
_ALIASES = {"429": "4xx", "451": "4xx", "500": "5xx", "550": "5xx", "errcode": "5xx"}


class _Handler(smtp_sink.MailDirHandler):
    def __init__(self, standin: SmtpStandIn) -> None:
        super().__init__(standin.mail_dir)
        self.standin = standin

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if self.standin._take("5xx"):
            self.standin.rejected.append({"reason": "injected:5xx", "rcpt": address, "at": time.time()})
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.standin.requests += 1
        if self.standin._take("timeout"):
            self.standin.rejected.append({"reason": "injected:timeout", "at": time.time()})
            await asyncio.sleep(self.standin.hang_seconds)
            return "451 4.3.0 Timed out"
        if self.standin._take("4xx"):
            self.standin.rejected.append({"reason": "injected:4xx", "at": time.time()})
            return "451 4.3.0 Temporary local problem, try again later"
        return await super().handle_DATA(server, session, envelope)


class SmtpStandIn:
    """An SMTP server on 127.0.0.1 keeping each mail as .eml in ``mail_dir`` (a temporary
    directory by default). ``received`` → parsed mails oldest first (``smtp_sink.list_mails``
    dicts: id, from, to, subject, date, message_id, text, html); ``duplicates`` → mails whose
    Message-ID was seen before. ``fail_next(n, mode)``: "4xx" (451 at DATA, retryable), "5xx"
    (550 at RCPT, permanent), "timeout" (hold DATA ``hang_seconds``); "429"/"451" alias 4xx,
    "500"/"550"/"errcode" alias 5xx."""

    def __init__(self, mail_dir: Path | None = None, *, hang_seconds: float = 2.0) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if mail_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smtp-standin-")
            mail_dir = Path(self._tmp.name)
        self.mail_dir = Path(mail_dir)
        self.hang_seconds = hang_seconds
        self.host = "127.0.0.1"
        self.rejected: list[dict[str, Any]] = []
        self.requests = 0
        self._failures: deque[str] = deque()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def __enter__(self) -> Self:
        self._controller = smtp_sink.start(self.host, 0, self.mail_dir, handler=_Handler(self))
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            self._tmp.cleanup()

    @property
    def port(self) -> int:
        assert self._controller is not None, "stand-in not started"
        return int(self._controller.port)

    def fail_next(self, n: int = 1, mode: str = "4xx") -> None:
        mode = _ALIASES.get(mode, mode)
        if mode not in SMTP_MODES:
            raise ValueError(f"mode must be one of {SMTP_MODES} (or {tuple(_ALIASES)})")
        with self._lock:
            self._failures.extend([mode] * n)

    def _take(self, mode: str) -> bool:
        with self._lock:
            if self._failures and self._failures[0] == mode:
                self._failures.popleft()
                return True
            return False

    @property
    def received(self) -> list[dict[str, Any]]:
        return list(reversed(smtp_sink.list_mails(self.mail_dir)))

    @property
    def duplicates(self) -> int:
        counts = Counter(m["message_id"] for m in self.received)
        return sum(c - 1 for c in counts.values())

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mails = self.received
            if len(mails) >= count:
                return mails
            time.sleep(0.02)
        raise AssertionError(f"SmtpStandIn: {len(self.received)} mails, expected {count}")
