"""ProjectClosure (id ``close-<project id>``): closing an active project (POST /projects/{id}/close,
or a CRM loss after approval): the registration becomes closed, reporting (and through it the
finance subscribers) hears project.closed, the ProjectExecution workflow stops, the owner is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Closing an active project (POST /projects/{id}/close, or a CRM loss after approval): the
# registration becomes closed, reporting (and through it the finance subscribers) hears
# project.closed, the ProjectExecution workflow stops, the owner is told.
CLOSURE_WORKFLOW_TYPE = "ProjectClosure"


def closure_workflow_id(project_id: str) -> str:
    return f"close-{project_id}"


@dataclass
class ClosureReview:
    """The closing review (复盘) recorded with the close: reported as project.reviewed (reporting
    computes cost vs budget and schedule vs baseline from its read models)."""

    # won | delivered | lost | cancelled
    outcome: str
    reason: str = ""
    lessons: str = ""
    tags: list[str] = field(default_factory=list)
    # People's summary of the delays; empty = summarised from the tasks.
    delay_summary: str = ""


@dataclass
class ClosureInput:
    project_id: str
    actor_id: str
    comment: str = ""
    # api | crm | …
    channel: str = "api"
    # Optional review recorded at close (new field: histories without it replay unchanged).
    review: ClosureReview | None = None


@dataclass
class ClosureResult:
    project_id: str
    # closed, or the status that stopped the closure (e.g. pending_approval → refused).
    status: str = ""
    steps: list[str] = field(default_factory=list)
