"""Client side of the service contracts: channels, per-call metadata and deadlines, and one
place that reads a failed call's rich status back into a ``DomainError``."""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from baobei.core import telemetry
from baobei.core.errors import (
    GONE_REASONS,
    Conflict,
    DomainError,
    FieldViolation,
    Forbidden,
    Gone,
    NotFound,
    Unauthenticated,
    ValidationFailed,
)
from baobei.core.tls import GrpcTls

# File bytes (attachments, deliverables: ≤ 20 MB) travel in one message to the service owning them;
# gRPC's default 4 MB receive limit would refuse them.
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
MESSAGE_SIZE_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]
# A peer that was down (a restart, a deploy) is reconnected to within 5 s of coming back: gRPC's
# default backoff grows to 120 s, so a relay or outbox dispatcher that had failed a few times kept
# waiting long after the service was up again.
RECONNECT_OPTIONS = [("grpc.initial_reconnect_backoff_ms", 1000), ("grpc.max_reconnect_backoff_ms", 5000)]
_OPTIONS = [("grpc.enable_retries", 1), ("grpc.keepalive_time_ms", 30000), *RECONNECT_OPTIONS,
            *MESSAGE_SIZE_OPTIONS]
# The process's TLS identity for channels opened without an explicit ``tls`` (set once in main).
_default_tls: GrpcTls | None = None


def set_default_tls(tls: GrpcTls | None) -> None:
    global _default_tls
    _default_tls = tls


def channel(addr: str, *, tls: GrpcTls | None = None) -> grpc.Channel:
    tls = tls or _default_tls
    if tls is None:
        ch = grpc.insecure_channel(addr, options=_OPTIONS)
    else:
        ch = grpc.secure_channel(addr, tls.channel_credentials(), options=_OPTIONS + tls.channel_options())
    return telemetry.traced_channel(ch)  # the channel itself unless tracing is on


def aio_channel(addr: str, *, tls: GrpcTls | None = None) -> grpc.aio.Channel:
    tls = tls or _default_tls
    traced = telemetry.grpc_aio_client_interceptors() or None  # none unless tracing is on
    if tls is None:
        return grpc.aio.insecure_channel(addr, options=_OPTIONS, interceptors=traced)
    return grpc.aio.secure_channel(
        addr, tls.channel_credentials(), options=_OPTIONS + tls.channel_options(), interceptors=traced
    )


def metadata(*, locale: str = "zh", workflow_id: str = "", request_id: str = "") -> list[tuple[str, str]]:
    md = [("accept-language", locale)]
    if workflow_id:
        md.append(("x-workflow-id", workflow_id))
    if request_id:
        md.append(("x-request-id", request_id))
    return md


# The statuses that refuse a request for good (sent again, it is refused again), as google.rpc.Code
# numbers: a batch item's error with one of these is logged and let go, any other sent again.
REFUSED_CODES = frozenset(c.value[0] for c in (
    grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS))


@dataclass
class CallFailure:
    code: grpc.StatusCode
    message: str
    reason: str
    violations: list[FieldViolation]


def read_failure(err: grpc.RpcError) -> CallFailure:
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    message = err.details() if hasattr(err, "details") else str(err)
    reason, violations = "", []
    status = rpc_status.from_call(err) if isinstance(err, grpc.Call) else None
    if status is None and isinstance(err, grpc.aio.AioRpcError):
        md = err.trailing_metadata() or ()
        for key, value in md:
            if key == "grpc-status-details-bin":
                from google.rpc import status_pb2

                status = status_pb2.Status.FromString(value)
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason = info.reason
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations = [FieldViolation(v.field, v.description, v.description) for v in bad.field_violations]
    return CallFailure(code=code, message=message or "", reason=reason, violations=violations)


def to_domain_error(err: grpc.RpcError) -> DomainError | None:
    """The DomainError a service raised, or None for transport/unexpected failures."""
    f = read_failure(err)
    text = f.message
    if f.code == grpc.StatusCode.INVALID_ARGUMENT:
        return ValidationFailed(f.violations, zh=text, en=text)
    if f.code == grpc.StatusCode.NOT_FOUND:
        return NotFound(text, text, code=f.reason or "not_found")
    if f.code == grpc.StatusCode.PERMISSION_DENIED:
        e = Forbidden(text, text, code=f.reason or "forbidden")
        e.violations = f.violations
        return e
    if f.code == grpc.StatusCode.FAILED_PRECONDITION and f.reason in GONE_REASONS:
        return Gone(text, text, code=f.reason)
    if f.code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.ABORTED):
        return Conflict(text, text, code=f.reason or "conflict")
    if f.code == grpc.StatusCode.UNAUTHENTICATED:
        return Unauthenticated(text, text, code=f.reason or "unauthenticated")
    return None
