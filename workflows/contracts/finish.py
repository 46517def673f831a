"""The end of an approval in one local activity (issue 15, patch ``finish-in-one``): the project's
final status, an approved project's delivery start and the owner's notice, each idempotent on its
own request id, so a retried activity repeats none of them."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.contracts.notify import SendInput
from workflows.contracts.registry import SetProjectStatusInput, StartDeliveryInput

LIFECYCLE_FINISH = "lifecycle.Finish"


@dataclass
class FinishInput:
    status: SetProjectStatusInput
    # The owner's "approved" / "rejected" notice, sent once the status is recorded.
    notice: SendInput
    # Only for an approved project: its protection period and delivery workflows.
    delivery: StartDeliveryInput | None = None
