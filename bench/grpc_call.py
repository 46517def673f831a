"""CPU per unary gRPC call between two of our processes, before any work: a health check answered
by a server in a child process, called one at a time ``--calls`` times, for each pairing of a sync
(thread-pool) or asyncio server with a sync or asyncio client, and for our own server (``build_server``,
its interceptors, health answered there) with the asyncio client the edge and the workers use. CPU
from /proc of both processes (client: this one).

On 2026-12-06 (2 cores, grpcio 1.85): 0.6–0.9 ms per call (server 0.35–0.55, client 0.22–0.40)
whichever pairing, the asyncio server no cheaper than the thread pool; our server adds ≈ 0.1 ms.
No server or channel option changed it (poll strategy epoll1/poll, fork support off). So a call
costs about as much as a small transaction: the lever is fewer calls (docs/performance.md, seventh step).

    PYTHONPATH=$PWD .venv/bin/python -m bench.grpc_call [--calls 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time
from concurrent import futures
from multiprocessing.queues import Queue
from typing import Any

import grpc
import psutil
from grpc_health.v1 import _async as health_aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

WARM_UP = 300


def serve(kind: str, ports: Queue[int]) -> None:
    if kind == "ours":
        from baobei.core.grpc_server import build_server

        server, port = build_server(name="bench", add_servicer=lambda s: None, service_full_name="bench.Bench")
        server.start()
        ports.put(port)
        server.wait_for_termination()
    elif kind == "sync":
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        servicer = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        ports.put(server.add_insecure_port("127.0.0.1:0"))
        server.start()
        server.wait_for_termination()
    else:
        async def main() -> None:
            server = grpc.aio.server()
            servicer = health_aio.HealthServicer()
            health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
            await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
            ports.put(server.add_insecure_port("127.0.0.1:0"))
            await server.start()
            await server.wait_for_termination()

        asyncio.run(main())


def busy(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def measure(server_kind: str, client_kind: str, calls: int) -> tuple[float, float]:
    """(client, server) CPU ms per call."""
    ports: Queue[int] = mp.get_context("spawn").Queue()
    child = mp.get_context("spawn").Process(target=serve, args=(server_kind, ports), daemon=True)
    child.start()
    try:
        port = ports.get(timeout=60)
        server = psutil.Process(child.pid)
        req = health_pb2.HealthCheckRequest()
        if client_kind == "sync":
            with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
                stub: Any = health_pb2_grpc.HealthStub(ch)
                for _ in range(WARM_UP):
                    stub.Check(req, timeout=10)
                s0, c0 = busy(server), time.process_time()
                for _ in range(calls):
                    stub.Check(req, timeout=10)
                c1, s1 = time.process_time(), busy(server)
        else:
            async def run() -> tuple[float, float, float, float]:
                async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as ch:
                    stub: Any = health_pb2_grpc.HealthStub(ch)
                    for _ in range(WARM_UP):
                        await stub.Check(req, timeout=10)
                    s0, c0 = busy(server), time.process_time()
                    for _ in range(calls):
                        await stub.Check(req, timeout=10)
                    return s0, c0, time.process_time(), busy(server)

            s0, c0, c1, s1 = asyncio.run(run())
        return (c1 - c0) / calls * 1000, (s1 - s0) / calls * 1000
    finally:
        child.kill()
        child.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    rows = [("sync", "sync"), ("sync", "asyncio"), ("asyncio", "sync"), ("asyncio", "asyncio"), ("ours", "asyncio")]
    print(f"{'server':<26} {'client':<8} {'client ms':>9} {'server ms':>9} {'total ms':>9}")
    for server_kind, client_kind in rows:
        client, server = measure(server_kind, client_kind, args.calls)
        label = "ours (build_server, @rpc)" if server_kind == "ours" else server_kind
        print(f"{label:<26} {client_kind:<8} {client:9.3f} {server:9.3f} {client + server:9.3f}")


if __name__ == "__main__":
    main()
