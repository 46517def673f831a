"""The one mapping from a failed gRPC call to what Temporal should do with it.

Caller errors (the service refused the request) are non-retryable ``ApplicationError``s typed with
the contract's ``ERR_*`` code, carrying the service's message and field violations; a permanent
delivery failure (FAILED_PRECONDITION, reason ``delivery_permanent``) is the non-retryable type
``delivery_permanent``; everything else (UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, ...) is
retryable and left to the retry policy.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from baobei.core.grpc_client import metadata, read_failure
from workflows.contracts.errors import DELIVERY_PERMANENT, ERR_CONFLICT, ERR_FORBIDDEN, ERR_NOT_FOUND, ERR_VALIDATION

NON_RETRYABLE: dict[grpc.StatusCode, str] = {
    grpc.StatusCode.INVALID_ARGUMENT: ERR_VALIDATION,
    grpc.StatusCode.NOT_FOUND: ERR_NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED: ERR_FORBIDDEN,
    grpc.StatusCode.FAILED_PRECONDITION: ERR_CONFLICT,
    grpc.StatusCode.ALREADY_EXISTS: ERR_CONFLICT,
}

R = TypeVar("R")


def to_application_error(err: grpc.RpcError) -> ApplicationError:
    failure = read_failure(err)
    violations = [{"field": v.field, "message": v.zh} for v in failure.violations]
    if failure.code == grpc.StatusCode.FAILED_PRECONDITION and failure.reason == DELIVERY_PERMANENT:
        # The notify service gave up on a delivery for good: no retry, dead-letter it.
        return ApplicationError(failure.message or DELIVERY_PERMANENT, violations, type=DELIVERY_PERMANENT,
                                non_retryable=True)
    err_type = NON_RETRYABLE.get(failure.code)
    if err_type is not None:
        return ApplicationError(failure.message or err_type, violations, type=err_type, non_retryable=True)
    # Transport trouble or a server bug: let the activity's retry policy try again.
    return ApplicationError(
        f"{failure.code.name}: {failure.message}", type=f"rpc_{failure.code.name.lower()}", non_retryable=False
    )


async def call(method: Callable[..., Awaitable[R]], request: Any, *, timeout: float, locale: str = "zh") -> R:
    """Call one unary RPC from an activity (deadline, workflow metadata, mapped errors), or from a
    worker's outbox relay (no workflow metadata: the same mapped errors)."""
    if activity.in_activity():
        info = activity.info()
        wid = info.workflow_id or ""
        md = metadata(locale=locale, workflow_id=wid, request_id=f"{wid}/{info.activity_id}/{info.attempt}")
    else:
        md = metadata(locale=locale)
    try:
        return await method(request, timeout=timeout, metadata=md)
    except grpc.RpcError as err:
        raise to_application_error(err) from None
