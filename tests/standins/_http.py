"""The HTTP stand-in machinery shared by the DingTalk, WeCom and webhook receivers."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

MODES = ("500", "429", "timeout", "slow", "errcode", "400")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body.decode())


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    """One accepted message."""

    payload: dict[str, Any]
    headers: dict[str, str]
    query: dict[str, str]
    at: float
    # Searchable content: for robots the title and text (markdown / card), for webhooks the body.
    text: str
    # Standard Webhooks: the webhook-id; robots: "".
    msg_id: str = ""


@dataclass
class Rejected:
    """One refused request: ``reason`` (e.g. "bad_sign", "rate_limited", "injected:500"), the HTTP
    status and platform errcode answered (0 when none)."""

    reason: str
    status: int
    errcode: int
    body: bytes
    at: float


class Refuse(Exception):
    def __init__(self, reason: str, reply: Reply) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


class HttpStandIn:
    """Base of the HTTP receivers. Subclasses implement ``verify(request) -> Received`` (raise
    ``Refuse`` for what the real platform refuses) and ``platform_error(errcode) -> Reply``."""

    path = "/"
    default_errcode = -1

    def __init__(self, *, hang_seconds: float = 2.0, rate_limit: int | None = None, rate_window: float = 60.0) -> None:
        self.hang_seconds = hang_seconds
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.retry_after = "1"
        self.received: list[Received] = []
        self.rejected: list[Rejected] = []
        self.duplicates = 0
        self.requests = 0
        self.rate_limited = 0
        self._failures: deque[tuple[str, int | None]] = deque()
        self._accepted_at: list[float] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- life cycle ----
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]) -> None:
        self.stop()

    def start(self) -> None:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
                standin._serve(self)

            def do_GET(self) -> None:  # noqa: N802
                standin._serve(self)

            def do_PATCH(self) -> None:  # noqa: N802
                standin._serve(self)

            def do_DELETE(self) -> None:  # noqa: N802
                standin._serve(self)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return int(self._server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return self.base + self.path

    # ---- test controls ----
    def fail_next(self, n: int = 1, mode: str = "500", errcode: int | None = None) -> None:
        """The next ``n`` requests fail: "500" / "429" (with Retry-After: ``retry_after``) / "400"
        HTTP statuses; "timeout" — hold the request ``hang_seconds`` without accepting it, then
        500; "slow" — accept the message, then hold the answer ``hang_seconds`` (the sender times
        out although the message arrived: the at-least-once case); "errcode" — HTTP 200 with the
        platform error ``errcode`` (default: the platform's "system busy")."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        with self._lock:
            self._failures.extend([(mode, errcode)] * n)

    def max_in_window(self, window: float | None = None) -> int:
        """The most messages accepted in any ``window`` seconds (default: the rate window)."""
        span = self.rate_window if window is None else window
        with self._lock:
            times = sorted(r.at for r in self.received)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= span:
                lo += 1
            best = max(best, hi - lo + 1)
        return best

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` messages were accepted; returns them (or raises)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{type(self).__name__}: {len(self.received)} messages, expected {count}")

    def containing(self, text: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if text in r.text]

    # ---- for subclasses ----
    def verify(self, request: Request) -> Received:
        raise NotImplementedError

    def platform_error(self, errcode: int, reason: str) -> Reply:
        return Reply(200, {"errcode": errcode, "errmsg": reason})

    def rate_limit_reply(self) -> Reply:
        return Reply(429, {"error": "rate limited"})

    def is_duplicate(self, msg: Received) -> bool:
        """Robots: an identical payload accepted before. Webhooks override (webhook-id)."""
        return any(r.payload == msg.payload for r in self.received)

    def keep_duplicate(self) -> bool:
        return True

    # ---- request handling ----
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        request = Request(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            at=time.time(),
        )
        reply, hang = self._decide(request)
        if hang:
            self._closing.wait(self.hang_seconds)
        data = json.dumps(reply.body, ensure_ascii=False).encode()
        try:
            handler.send_response(reply.status)
            for k, v in reply.headers.items():
                handler.send_header(k, v)
            handler.send_header("content-type", "application/json; charset=utf-8")
            handler.send_header("content-length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client gave up (timeout modes)
            pass

    def _reject(self, request: Request, reason: str, reply: Reply) -> tuple[Reply, bool]:
        errcode = int(reply.body.get("errcode", 0)) if isinstance(reply.body, dict) else 0
        self.rejected.append(Rejected(reason, reply.status, errcode, request.body, request.at))
        return reply, False

    def _decide(self, request: Request) -> tuple[Reply, bool]:
        with self._lock:
            self.requests += 1
            failure = self._failures.popleft() if self._failures else None
            slow = False
            if failure is not None:
                mode, errcode = failure
                if mode == "500":
                    return self._reject(request, "injected:500", Reply(500, {"error": "injected"}))
                if mode == "400":
                    return self._reject(request, "injected:400", Reply(400, {"error": "injected"}))
                if mode == "429":
                    reply = Reply(429, {"error": "injected"}, {"retry-after": self.retry_after})
                    return self._reject(request, "injected:429", reply)
                if mode == "errcode":
                    code = self.default_errcode if errcode is None else errcode
                    return self._reject(request, f"injected:errcode:{code}", self.platform_error(code, "injected"))
                if mode == "timeout":
                    self._reject(request, "injected:timeout", Reply(500, {"error": "injected timeout"}))
                    return Reply(500, {"error": "injected timeout"}), True
                slow = True  # "slow": accept normally, answer late
            try:
                msg = self.verify(request)
            except Refuse as refused:
                return self._reject(request, refused.reason, refused.reply)
            if self.rate_limit is not None:
                recent = [t for t in self._accepted_at if request.at - t < self.rate_window]
                self._accepted_at = recent
                if len(recent) >= self.rate_limit:
                    self.rate_limited += 1
                    return self._reject(request, "rate_limited", self.rate_limit_reply())
                self._accepted_at.append(request.at)
            if self.is_duplicate(msg):
                self.duplicates += 1
                if not self.keep_duplicate():
                    return Reply(200, self.ok_body()), slow
            self.received.append(msg)
            return Reply(200, self.ok_body()), slow

    def ok_body(self) -> dict[str, Any]:
        return {"errcode": 0, "errmsg": "ok"}
