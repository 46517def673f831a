"""ProjectProtection (id ``protection-<project id>``): the protection period (保护期 / 候补); the
lifecycle starts it as a child, the registry activities start it for promotions.
"""

from __future__ import annotations

from dataclasses import dataclass

from workflows.contracts.registry import ProtectionStatus

PROTECTION_WORKFLOW_TYPE = "ProjectProtection"


def protection_workflow_id(project_id: str) -> str:
    return f"protection-{project_id}"


@dataclass
class ProtectionInput:
    project_id: str
    # The registry's answer to StartProtection when the starter already asked (an approved
    # project's delivery start): the workflow keeps time from it instead of asking again.
    started: ProtectionStatus | None = None


@dataclass
class ProtectionResult:
    project_id: str
    # Final state: none | holder | waitlisted | lapsed | released
    state: str
    reminders: int = 0
    promoted: list[str] | None = None
