"""Activity on the reporting service (``ReportingActivities``): ingest one event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportEventResult:
    applied: bool
