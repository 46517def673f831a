"""The owner's notice at the approval's end (``lifecycle.Finish``) is sent without asking the
registry what the owner may read: the status write has just answered the project's owner, and
the owner reads everything of their project. Any other recipient still gets their redaction read."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import REGISTRY
from temporalio.testing import ActivityEnvironment

from baobei.core.grpc_client import aio_channel
from baobei.notify.v1 import notify_service_pb2 as npb
from baobei.notify.v1 import notify_service_pb2_grpc as npb_grpc
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.workflows.test_finish import finish_input, pending, services  # noqa: F401 - the fixture
from workflows.activities.finish import FinishActivities
from workflows.activities.notify import NotifyActivities
from workflows.activities.registry import RegistryActivities
from workflows.contracts.notify import SendInput

pytestmark = pytest.mark.asyncio(loop_scope="module")


def redaction_reads() -> float:
    """RecipientRedactions calls the (in-process) registry answered, by its own metrics."""
    labels = {"grpc_service": "baobei.registry.v1.RegistryService", "grpc_method": "RecipientRedactions"}
    return sum(REGISTRY.get_sample_value("baobei_grpc_server_handled_total", {**labels, "grpc_code": code}) or 0.0
               for code in ("OK", "NOT_FOUND"))


async def test_the_owners_notice_needs_no_redaction_read_and_others_still_get_one(services: Any) -> None:  # noqa: F811
    stub, registry_addr, notify_stub, notify_addr = services
    rch, nch = aio_channel(registry_addr), aio_channel(notify_addr)
    try:
        notify = NotifyActivities(npb_grpc.NotifyServiceStub(nch), registry=pb_grpc.RegistryServiceStub(rch))
        acts = FinishActivities(RegistryActivities(pb_grpc.RegistryServiceStub(rch)), notify)
        pid = pending(stub, 1)
        before = redaction_reads()
        done = await ActivityEnvironment().run(acts.finish, finish_input(pid, approved=False, at=""))
        assert done.status == "rejected" and done.owner_id == "sales1"
        assert redaction_reads() == before  # the owner's notice: no read
        inbox = notify_stub.ListInbox(npb.ListInboxRequest(user_id="sales1", limit=50), timeout=10).items
        assert [(n.kind, n.project_id) for n in inbox] == [("project_rejected", pid)]

        def notice(request_id: str, *recipients: str) -> SendInput:
            return SendInput(request_id=request_id, recipient_ids=list(recipients), kind="project_rejected",
                             title="", project_id=pid, context={"project_id": pid})

        # The plain Send activity does not know the owner: it reads.
        await ActivityEnvironment().run(notify.send, notice(f"{pid}:plain", "sales1"))
        assert redaction_reads() == before + 1
        # Another recipient beside the owner, or an owner who is not the recipient: read.
        await ActivityEnvironment().run(notify.send_knowing_owner, notice(f"{pid}:mixed", "sales1", "boss"), "sales1")
        assert redaction_reads() == before + 2
        await ActivityEnvironment().run(notify.send_knowing_owner, notice(f"{pid}:other", "boss"), "sales1")
        assert redaction_reads() == before + 3
    finally:
        await rch.close()
        await nch.close()
