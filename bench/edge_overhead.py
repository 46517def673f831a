"""The edge's fixed CPU per HTTP request (middleware, routing, auth, rate limits, idempotency),
in-process: the ASGI app called directly (no server, no httpx) with the real Redis and stand-in
gRPC stubs, so only the edge's own work is counted. CPU ms per request (``time.process_time``):

    PYTHONPATH=$PWD .venv/bin/python -m bench.edge_overhead [--n 2000] [--redis redis://127.0.0.1:6379/0]

Cases: the to-do list (GET /api/v1/me/todos, authenticated, empty list), a decision (POST
/api/v1/approval-tasks/{id}/decision answered 409 by the stand-in task), a 401 (no token), an
unknown path (404), plus a bare ASGI app for the harness's own cost; then two layers alone: route
matching (to the endpoint) and the request guard (authentication of a cached token, rate limits)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import time
import uuid
from typing import Any

import redis.asyncio as aioredis

from baobei.approval.v1 import approval_service_pb2 as approval_pb2
from baobei.core.settings import Settings
from edge.app import create_app
from edge.clients import EdgeDeps


class FakeApproval:
    async def ListTodos(self, request: Any, **_: Any) -> Any:  # noqa: N802 - gRPC method name
        return approval_pb2.ListTodosResponse()

    async def GetTask(self, request: Any, **_: Any) -> Any:  # noqa: N802
        task = approval_pb2.ApprovalTask(id=request.task_id, project_id="p-1", approver_id=request.actor_id,
                                         status=approval_pb2.TASK_STATUS_APPROVED)
        return approval_pb2.GetTaskResponse(task=task, may_act=True)


def scope(method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"",
        "headers": headers + [(b"host", b"edge.test"), (b"content-length", str(len(body)).encode())],
        "client": ("10.0.0.1", 40000), "server": ("edge.test", 80),
    }


async def call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b"", owner: Any = None
) -> int:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    request = scope(method, path, headers, body)
    if owner is not None:  # a middleware alone: the app whose state it reads
        request["app"] = owner
    await app(request, receive, send)
    return status


async def bare(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--rounds", type=int, default=3, help="the best of this many rounds is printed")
    parser.add_argument("--profile", default="", help="a case's name: its cProfile to /tmp/edge_overhead.prof")
    args = parser.parse_args()
    from baobei.core.logging import configure_logging

    configure_logging(fmt="json")  # as the edge runs: one JSON access line per request (to /dev/null here)
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    token = "bench-" + uuid.uuid4().hex
    settings = Settings(admin_token="adm-" + uuid.uuid4().hex, redis_url=args.redis, base_url="http://edge.test",
                        rate_limit_token=10**9, rate_limit_decisions=10**9, rate_limit_auth_failures=10**9,
                        **{f"{svc}_addr": "127.0.0.1:9"
                           for svc in ("registry", "approval", "tasks", "reporting", "notify")})
    redis = aioredis.from_url(args.redis, decode_responses=True)
    deps = await EdgeDeps.connect(settings, redis_client=redis)
    deps.stubs["approval"] = FakeApproval()
    epoch = await redis.get("baobei:edge:auth:directory-epoch") or "0"
    user = "bench-user-" + uuid.uuid4().hex[:6]
    entry = {"id": user, "roles": ["manager"], "name": "经理", "department_id": "d", "token_id": "t",
             "scopes": None, "expires_at": 0.0, "epoch": epoch}
    key = "baobei:edge:auth:" + hashlib.sha256(token.encode()).hexdigest()
    await redis.set(key, json.dumps(entry), ex=3600)
    app = create_app(settings, deps=deps)
    auth = [(b"authorization", f"Bearer {token}".encode()), (b"accept", b"application/json")]
    decision = json.dumps({"action": "approve", "comment": "同意"}).encode()
    cases: list[tuple[str, Any, str, str, list[tuple[bytes, bytes]], bytes, int]] = [
        ("bare ASGI app (harness)", bare, "GET", "/x", [], b"", 200),
        ("GET /nope (404)", app, "GET", "/api/nope", [], b"", 404),
        ("GET /api/v1/me/todos (401)", app, "GET", "/api/v1/me/todos", [], b"", 401),
        ("GET /api/v1/me/todos", app, "GET", "/api/v1/me/todos", auth, b"", 200),
        ("POST decision (409)", app, "POST", "/api/v1/approval-tasks/t-1/decision",
         auth + [(b"content-type", b"application/json")], decision, 409),
    ]
    print(f"{'case':34} {'CPU ms/request':>15}   (n={args.n}, best of {args.rounds})")
    for name, target, method, path, headers, body, expect in cases:
        for _ in range(50):  # warm up: routes' handlers, series, Redis connections
            got = await call(target, method, path, headers, body)
        assert got == expect, (name, got)
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            for _ in range(args.n):
                await call(target, method, path, headers, body)
            best = min(best, time.process_time() - started)
        print(f"{name:34} {best / args.n * 1000:15.3f}", flush=True)
        if args.profile and args.profile == name:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
            for _ in range(args.n):
                await call(target, method, path, headers, body)
            prof.disable()
            prof.dump_stats("/tmp/edge_overhead.prof")
    await layers(app, args.n, auth)
    await redis.delete(key)
    await deps.close()


async def layers(app: Any, n: int, auth: list[tuple[bytes, bytes]]) -> None:
    """Two layers alone: routing (pick the router, then dispatch inside it, as Starlette and FastAPI
    do) and the request guard (a cached token's authentication, rate limits: its Redis round trips)."""
    from fastapi.routing import _IncludedRouter
    from starlette.routing import Match

    from edge.guard import RequestGuard

    def route(method: str, path: str) -> None:
        scope = {"type": "http", "path": path, "method": method, "root_path": ""}
        for candidate in app.router.routes:
            if candidate.matches(scope)[0] == Match.FULL:
                while isinstance(candidate, _IncludedRouter):  # _handle_selected, down to the route
                    candidate = candidate._match(scope)[2]
                return

    print(f"\n{'layer':44} {'CPU us/request':>15}   (n={n}, best of 3)")
    for method, path in (("GET", "/api/v1/me/todos"), ("POST", "/api/v1/approval-tasks/t-1/decision"),
                         ("POST", "/api/v1/projects"), ("GET", "/api/nope")):
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            for _ in range(n):
                route(method, path)
            best = min(best, time.process_time() - started)
        print(f"{'routing ' + method + ' ' + path:44} {best / n * 1e6:15.1f}")
    guard = RequestGuard(bare)
    for method, path, body in (("GET", "/api/v1/me/todos", b""),
                               ("POST", "/api/v1/approval-tasks/t-1/decision", b"{}")):
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            for _ in range(n):
                await call(guard, method, path, auth, body, app)
            best = min(best, time.process_time() - started)
        print(f"{'guard (auth, limits) ' + method + ' ' + path:44} {best / n * 1e6:15.1f}")


if __name__ == "__main__":
    asyncio.run(main())
