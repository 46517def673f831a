"""structlog logger for activities, bound to the workflow and project of the running activity."""

from __future__ import annotations

import structlog
from temporalio import activity

_log = structlog.get_logger("workflows.activities")


def activity_logger(project_id: str = "") -> structlog.stdlib.BoundLogger:
    info = activity.info()
    bound: structlog.stdlib.BoundLogger = _log.bind(
        activity=info.activity_type,
        attempt=info.attempt,
        workflow_id=info.workflow_id or "",
        project_id=project_id,
    )
    return bound
