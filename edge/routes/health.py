"""``GET /healthz``: 200 only when every service answers its gRPC health check, Temporal is
reachable and a worker polls the task queue; otherwise 503 naming what is down."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import grpc
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from edge.clients import EdgeDeps
from edge.deps import get_deps
from edge.schemas import HealthOut

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 3.0


async def _service(deps: EdgeDeps, svc: str) -> str:
    try:
        resp = await deps.health[svc].Check(health_pb2.HealthCheckRequest(service=""), timeout=CHECK_TIMEOUT)
    except grpc.RpcError as err:
        return f"down: {err.code().name if hasattr(err, 'code') else 'error'}"
    return (
        "ok"
        if resp.status == health_pb2.HealthCheckResponse.SERVING
        else f"down: {health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)}"
    )


async def _temporal(deps: EdgeDeps) -> tuple[str, str]:
    """(temporal, worker) status."""
    try:
        client = await asyncio.wait_for(deps.temporal(), CHECK_TIMEOUT)
        resp = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=deps.settings.task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            ),
            timeout=timedelta(seconds=CHECK_TIMEOUT),
        )
    except Exception as err:  # unreachable, timeout, auth ...
        return f"down: {type(err).__name__}", "unknown"
    worker = "ok" if resp.pollers else f"down: no worker polls task queue {deps.settings.task_queue}"
    return "ok", worker


@router.get(
    "/healthz", response_model=HealthOut, responses={503: {"model": HealthOut, "description": "Something is down"}}
)
async def healthz(request: Request) -> JSONResponse:
    deps = get_deps(request)
    services = list(deps.health)
    states, (temporal, worker) = await asyncio.gather(
        asyncio.gather(*(_service(deps, svc) for svc in services)), _temporal(deps)
    )
    checks: dict[str, str] = {"edge": "ok", **dict(zip(services, states, strict=True))}
    checks["temporal"], checks["worker"] = temporal, worker
    down = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "unavailable" if down else "ok", "checks": checks, "down": down}
    return JSONResponse(body, status_code=503 if down else 200)
