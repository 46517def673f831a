"""``lifecycle.Finish``: the three effects that end an approval, in one local activity instead of
two rounds of local activities (a status write, then the delivery start beside the owner's
notice). Each step is the same activity code the workflow called before and keeps its request id,
so a retry after a crash between them finds the earlier steps done."""

from __future__ import annotations

from temporalio import activity

from workflows.activities._log import activity_logger
from workflows.activities.notify import NotifyActivities
from workflows.activities.registry import RegistryActivities
from workflows.contracts.finish import LIFECYCLE_FINISH, FinishInput
from workflows.contracts.registry import ProjectSnapshot


class FinishActivities:
    def __init__(self, registry: RegistryActivities, notify: NotifyActivities) -> None:
        self._registry, self._notify = registry, notify

    @activity.defn(name=LIFECYCLE_FINISH)
    async def finish(self, inp: FinishInput) -> ProjectSnapshot:
        # The status first: the notice and the delivery follow a recorded decision, never precede it.
        project = await self._registry.set_project_status(inp.status)
        if inp.delivery is not None:
            await self._registry.start_delivery(inp.delivery)
        # The status write answered the project's owner: their notice needs no redaction read.
        await self._notify.send_knowing_owner(inp.notice, project.owner_id)
        activity_logger(inp.status.project_id).info("approval.finished", status=inp.status.status,
                                                    delivery=inp.delivery is not None)
        return project
