"""ProjectExecution (id ``execution-<project id>``): its type, signals, query and payloads (started by
the lifecycle, signalled by the edge when a plan changes).
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.contracts.tasks import ProtectionInfo

EXECUTION_WORKFLOW_TYPE = "ProjectExecution"
EXECUTION_SIGNAL_CHANGED = "tasks_changed"
EXECUTION_SIGNAL_STOP = "stop"
EXECUTION_QUERY_STATE = "state"


def execution_workflow_id(project_id: str) -> str:
    return f"execution-{project_id}"


@dataclass
class ExecutionInput:
    project_id: str
    owner_id: str
    name: str = ""
    business_line: str = ""
    # Decimal string (the registered amount: the budget unless one is set).
    amount: str = "0"
    # Apply the business line's template and save the approval baseline on start.
    apply_template: bool = True
    # ISO date the template's offsets count from: the project's registered start date; "" = the
    # day the workflow starts (Asia/Shanghai), as before.
    start: str = ""
    # Carried over continue-as-new: task events already reported.
    cursor: int = 0
    # The protection period as the starter read it (an approved project's delivery start): the
    # first turn uses it instead of reading the registry (later turns read it as before).
    protection: ProtectionInfo | None = None


@dataclass
class TasksChanged:
    reason: str = ""


@dataclass
class ExecutionState:
    project_id: str
    cursor: int = 0
    next_wake: str = ""
    fires: int = 0
    stopped: bool = False
