"""``lifecycle.Finish``: the three effects that end an approval, in one local activity instead of
two rounds of local activities (a status write, then the delivery start beside the owner's
notice). Each step keeps the request id of the activity the workflow called before, so a retry
after a crash between them (by this code or the older one) finds the earlier steps done. An
approval's status change starts the protection period in the same registry call
(SetProjectStatus with start_protection): one call fewer than StartProtection of its own."""

from __future__ import annotations

from temporalio import activity

from workflows.activities._log import activity_logger
from workflows.activities.notify import NotifyActivities
from workflows.activities.registry import RegistryActivities, delivery_protection
from workflows.contracts.finish import LIFECYCLE_FINISH, FinishInput
from workflows.contracts.registry import ProjectSnapshot


class FinishActivities:
    def __init__(self, registry: RegistryActivities, notify: NotifyActivities) -> None:
        self._registry, self._notify = registry, notify

    @activity.defn(name=LIFECYCLE_FINISH)
    async def finish(self, inp: FinishInput) -> ProjectSnapshot:
        # The status first: the notice and the delivery follow a recorded decision, never precede it.
        if inp.delivery is None:
            project = await self._registry.set_project_status(inp.status)
        else:
            # The approval starts the protection period in the same registry call, under the
            # request id start_delivery gives StartProtection: a retry of a Finish whose older
            # code called StartProtection itself gets that call's stored answer.
            project, started = await self._registry.set_status_and_start_protection(
                inp.status, delivery_protection(inp.delivery))
            await self._registry.deliver(inp.delivery, started)
        # The status write answered the project's owner: their notice needs no redaction read.
        await self._notify.send_knowing_owner(inp.notice, project.owner_id)
        activity_logger(inp.status.project_id).info("approval.finished", status=inp.status.status,
                                                    delivery=inp.delivery is not None)
        return project
