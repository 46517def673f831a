"""A local OTLP/gRPC trace collector that counts and discards: what ``bench.lifecycle
--telemetry`` exports to, so the measured cost includes building, batching and sending spans
without a real collector on the machine."""

from __future__ import annotations

import threading
from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as pb_grpc


class _Sink(pb_grpc.TraceServiceServicer):
    def __init__(self) -> None:
        self.spans = 0
        self._lock = threading.Lock()

    def Export(self, request: pb.ExportTraceServiceRequest, context: Any) -> pb.ExportTraceServiceResponse:  # noqa: N802
        n = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        with self._lock:
            self.spans += n
        return pb.ExportTraceServiceResponse()


class OtlpSink:
    """``with OtlpSink() as sink:`` — ``sink.endpoint`` for ``BAOBEI_OTLP_ENDPOINT``,
    ``sink.spans`` received so far."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4), options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        pb_grpc.add_TraceServiceServicer_to_server(self._sink, self._server)  # type: ignore[no-untyped-call]
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{self.port}"

    @property
    def spans(self) -> int:
        return self._sink.spans

    def __enter__(self) -> OtlpSink:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop(grace=None)
