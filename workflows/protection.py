"""ProjectProtection (id ``protection-<project id>``): the protection period (保护期) of an approved
registration, on durable timers — no polling.

    start ─► StartProtection ─► protected? ── no ─► done (none / waitlisted: promotion restarts it)
                                   │ yes
              ┌────────────────────┘
              ▼
     sleep until the reminder ─► re-read (a follow-up may have moved the end) ─► remind the owner
     sleep until the end ─────► ExpireProtection(at = workflow time)
                                   ├ still protected (extended) ─► loop
                                   └ lapsed / released ─► tell the owner, start the protection of
                                     each promoted active registration (child, ABANDON), done

The registry decides everything under its row locks (who holds the customer, the waitlist order,
whether the end has been reached at the given workflow time); the workflow only keeps time.
Each registry call carries a request id derived from the workflow id and a counter, so retries and
replays change nothing twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from workflows.activities.notify import NotifyActivities
    from workflows.activities.registry import RegistryActivities
    from workflows.calls import ActivityCalls
    from workflows.contracts import search_attributes as sa
    from workflows.contracts.notify import SendInput
    from workflows.contracts.policies import ACTIVITY_TIMEOUT, BACKGROUND_RETRY
    from workflows.contracts.protection import (
        PROTECTION_WORKFLOW_TYPE,
        ProtectionInput,
        ProtectionResult,
        protection_workflow_id,
    )
    from workflows.contracts.registry import ProtectionCheckInput, ProtectionStatus

# Safety valve for a history that would otherwise grow with very many follow-ups.
MAX_ROUNDS = 500


@workflow.defn(name=PROTECTION_WORKFLOW_TYPE)
class ProjectProtection:
    def __init__(self) -> None:
        self._checks = 0
        self._state = "none"
        self._until = ""
        self._activity = ActivityCalls()

    @workflow.query(name="state")
    def state(self) -> ProtectionStatus:
        return ProtectionStatus(project_id=workflow.info().workflow_id, state=self._state, until=self._until)

    @workflow.run
    async def run(self, inp: ProtectionInput) -> ProtectionResult:
        # The run id is part of every request id: a promoted registration runs this workflow again
        # under the same workflow id, and must not get the stored answers of its earlier run.
        wid = f"{workflow.info().workflow_id}:{workflow.info().run_id}"
        if inp.started is not None:
            # The starter asked the registry already (an approved project's delivery start).
            st = inp.started
            self._checks = 1
            self._state, self._until = st.state, st.until
        else:
            st = await self._call(RegistryActivities.start_protection, inp.project_id, f"{wid}:start")
        self._label(st)
        reminders, reminded_for = 0, ""
        while st.state == "protected" and self._checks < MAX_ROUNDS:
            until = datetime.fromisoformat(st.until)
            remind = datetime.fromisoformat(st.remind_at) if st.remind_at else None
            now = workflow.now()
            if remind is not None and reminded_for != st.until:
                if now < remind:
                    before = st.until
                    await workflow.sleep(remind - now)
                    # Re-read: a follow-up may have moved the end (then the reminder moves too).
                    st = await self._call(RegistryActivities.expire_protection, inp.project_id, f"{wid}:check")
                    if st.state != "protected" or st.until != before:
                        continue
                reminders += 1
                reminded_for = st.until
                await self._notify(st, f"{wid}:remind:{st.until}", "protection_expiring")
                continue
            if now < until:
                await workflow.sleep(until - now)
            st = await self._call(RegistryActivities.expire_protection, inp.project_id, f"{wid}:expire")
        if st.state == "lapsed":
            await self._notify(st, f"{wid}:lapsed", "protection_lapsed")
        promoted = await self._start_promoted(st)
        return ProtectionResult(project_id=inp.project_id, state=st.state, reminders=reminders, promoted=promoted)

    def _label(self, st: ProtectionStatus) -> None:
        """A promotion starts this workflow knowing only the project id: set ``BaobeiCode`` from
        the registry's answer, so the project's code finds this workflow in the Temporal UI too."""
        if not st.code or workflow.info().typed_search_attributes.get(sa.CODE, ""):
            return
        if workflow.patched("protection-code-attribute"):
            workflow.upsert_search_attributes([sa.CODE.value_set(st.code)])

    async def _call(
        self, fn: Callable[[Any, ProtectionCheckInput], Awaitable[ProtectionStatus]], project_id: str, prefix: str
    ) -> ProtectionStatus:
        self._checks += 1
        st = await self._activity(
            fn,
            ProtectionCheckInput(request_id=f"{prefix}:{self._checks}", project_id=project_id,
                                 at=workflow.now().isoformat()),
            timeout=ACTIVITY_TIMEOUT,
            retry=BACKGROUND_RETRY,
        )
        self._state, self._until = st.state, st.until
        workflow.logger.info("protection %s: %s until %s", project_id, st.state, st.until or "-")
        return st

    async def _notify(self, st: ProtectionStatus, request_id: str, kind: str) -> None:
        if not st.owner_id:
            return
        await self._activity(
            NotifyActivities.send,
            # Words by notify (services/notify/wording.py) from the kind and these facts.
            SendInput(request_id=request_id, recipient_ids=[st.owner_id], kind=kind, title="",
                      project_id=st.project_id,
                      context={"project_id": st.project_id, "code": st.code, "name": st.name,
                               "until": st.until if kind == "protection_expiring" else ""}),
            timeout=ACTIVITY_TIMEOUT,
            retry=BACKGROUND_RETRY,
        )

    async def _start_promoted(self, st: ProtectionStatus) -> list[str]:
        """The next registration in line takes over: active ones are protected from now on."""
        out = []
        for p in st.promoted:
            out.append(p.project_id)
            if p.status != "active":
                continue  # its approval will start its protection
            try:
                await workflow.start_child_workflow(
                    PROTECTION_WORKFLOW_TYPE,
                    ProtectionInput(project_id=p.project_id),
                    id=protection_workflow_id(p.project_id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                )
            except WorkflowAlreadyStartedError:
                workflow.logger.info("protection of %s already running", p.project_id)
        return out
