"""A local OTLP/gRPC trace collector that counts and discards: what ``bench.lifecycle
--telemetry`` exports to, so the measured cost includes building, batching and sending spans
without a real collector on the machine."""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as pb_grpc


@dataclass(frozen=True)
class Span:
    """A received span, as ``bench.decision_trace`` reads them (times in ns since the epoch)."""

    service: str
    name: str
    start: int
    end: int
    trace_id: str


class _Sink(pb_grpc.TraceServiceServicer):
    def __init__(self, keep: bool) -> None:
        self.spans = 0
        self.kept: list[Span] = []
        self._keep = keep
        self._lock = threading.Lock()

    def Export(self, request: pb.ExportTraceServiceRequest, context: Any) -> pb.ExportTraceServiceResponse:  # noqa: N802
        n = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        kept = [
            Span(_service(rs), s.name, s.start_time_unix_nano, s.end_time_unix_nano, s.trace_id.hex())
            for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans
        ] if self._keep else []
        with self._lock:
            self.spans += n
            self.kept += kept
        return pb.ExportTraceServiceResponse()


def _service(rs: Any) -> str:
    for attr in rs.resource.attributes:
        if attr.key == "service.name":
            return str(attr.value.string_value)
    return "?"


class OtlpSink:
    """``with OtlpSink() as sink:`` — ``sink.endpoint`` for ``BAOBEI_OTLP_ENDPOINT``,
    ``sink.spans`` received so far; with ``keep=True`` the spans themselves in ``sink.kept``."""

    def __init__(self, keep: bool = False) -> None:
        self._sink = _Sink(keep)
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        pb_grpc.add_TraceServiceServicer_to_server(self._sink, self._server)  # type: ignore[no-untyped-call]
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    @property
    def spans(self) -> int:
        return self._sink.spans

    @property
    def kept(self) -> list[Span]:
        return list(self._sink.kept)

    def __enter__(self) -> OtlpSink:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop(grace=None)
