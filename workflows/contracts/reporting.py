"""Activity on the reporting service (``ReportingActivities``): ingest one event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.contracts.registry import ProjectSnapshot

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
REPORTING_INGEST_EVENT = "reporting.IngestEvent"


@dataclass
class ReportEventInput:
    event_id: str
    type: str
    project_id: str
    # ISO 8601 with zone (workflow time, so replays send the same event).
    at: str
    actor_id: str = ""
    # The kind's values, keyed by the field names of its message in reporting_service.proto
    # (project events: comment / channel; histories from before `project` hold the facts here).
    payload: dict[str, Any] = field(default_factory=dict)
    # Project events: the project after the change (mapped to ProjectFacts by the activity).
    project: ProjectSnapshot | None = None


@dataclass
class ReportEventResult:
    applied: bool
