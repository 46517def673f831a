"""Activity on the reporting service (``ReportingActivities``): ingest one event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.contracts.registry import ProjectSnapshot

# Activity type names ("<target>.<Operation>"): recorded in workflow histories, never rename.
REPORTING_INGEST_EVENT = "reporting.IngestEvent"
# Issue 15: a page of events in one call (ProjectExecution's task events, patch task-events-batch).
REPORTING_INGEST_EVENTS = "reporting.IngestEvents"


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


@dataclass
class ReportEventsInput:
    events: list[ReportEventInput] = field(default_factory=list)


@dataclass
class ReportEventsResult:
    # Applied now; the others had been ingested before (or were refused: logged, see the activity).
    applied: int = 0
