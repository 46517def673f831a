"""The round loop of the worker's outbox readers (the delivery dispatcher, the task-closing relay):
a round, then park until more work may be there; a failing round (a service or Temporal down)
backs off exponentially up to ``MAX_BACKOFF_SECONDS`` and tries again."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc
import structlog

log = structlog.get_logger(__name__)

MAX_BACKOFF_SECONDS = 30.0


class RoundIncomplete(Exception):
    """A round that did what it could (acknowledged those done) but left items the service could
    not apply this time: the loop backs off and tries again, logging a warning, not a trace."""


async def run_rounds(
    name: str,
    run_once: Callable[[], Awaitable[bool]],
    wait: Callable[[], Awaitable[object]],
    *,
    poll_seconds: float,
) -> None:
    """Until cancelled: ``run_once()`` (True = more is waiting, go again at once), else ``wait()``."""
    failures = 0
    while True:
        try:
            if await run_once():
                continue
            await wait()
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception as err:  # noqa: BLE001 - a service or Temporal down: back off, try again
            failures += 1
            delay = min(poll_seconds * 2 ** min(failures - 1, 6), MAX_BACKOFF_SECONDS)
            level = log.warning if isinstance(err, grpc.RpcError | RoundIncomplete) else log.exception
            level(f"{name}.round_failed", error=str(err), retry_in=delay)
            await asyncio.sleep(delay)
