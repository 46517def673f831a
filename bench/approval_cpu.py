"""CPU per call of the approval service's lifecycle hot path, in-process (no gRPC, no network):
the servicer's PlanChain (with ``open_first``, as the lifecycle workflow asks it) and
RecordDecision (approving step 1 with ``open_next``) on a migrated SQLite file, measured with
``time.process_time`` (CPU seconds: on a shared machine wall time measures the neighbours too).

    PYTHONPATH=$PWD .venv/bin/python -m bench.approval_cpu [--calls 300] [--rounds 3] [--db-url URL]

The policy table holds the lifecycle's two forms and some others (several versions each, an
acceptance policy of the form) so the policy choice reads a realistic table. Log lines are
rendered as in the service (JSON) and written to /dev/null. Prints ms per call, best of rounds."""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import struct_pb2

from baobei.approval.v1 import approval_service_pb2 as pb
from baobei.core.db import make_engine
from baobei.core.logging import configure_logging
from baobei.core.migrations import upgrade
from bench.quiet import quiet_stderr
from services.approval import domain
from services.approval.servicer import ApprovalServicer
from services.approval.store import ApprovalStore


class Context:
    """The bits of a ``grpc.ServicerContext`` the servicer reads."""

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def time_remaining(self) -> None:
        return None

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise RuntimeError(f"{code}: {details}")

    def abort_with_status(self, status: Any) -> None:
        raise RuntimeError(f"aborted: {status}")


def directory() -> domain.InMemoryDirectory:
    users = {u.id: u for u in (domain.OrgUser("rep", "sales"), domain.OrgUser("boss", "sales", ("manager",)),
                               domain.OrgUser("dir", "sales", ("director",)))}
    return domain.InMemoryDirectory(users=users, departments={"sales": ("", "boss")})


def seed_policies(store: ApprovalStore) -> None:
    manager = domain.StepSpec(name="经理审批", approvers=domain.ApproverSpec(type="manager_of_submitter"), mode="any")
    director = domain.StepSpec(name="总监审批", approvers=domain.ApproverSpec(type="role", role="director"))
    n = 0

    def put(key: str, form: str, steps: list[domain.StepSpec]) -> None:
        nonlocal n
        n += 1
        store.put_policy(request_id=f"policy-{n}", key=key, form_key=form, steps=steps)

    for i in range(8):  # other forms, three versions each
        for v in range(3):
            put(f"other-{i}", f"other-{i}", [domain.StepSpec(name=f"审批{v}", approvers=manager.approvers)])
    put("one", "one", [director])
    put("one", "one", [manager])  # the form's latest version decides
    put("two", "two", [director])
    put("two", "two", [domain.StepSpec(name="经理审批", approvers=manager.approvers, mode="any", sla="8wh"), director])
    put("acceptance", "two", [director])  # names the form, never decides its registrations


def plan_request(n: int, form: str) -> pb.PlanChainRequest:
    wid = f"project-lifecycle-p{n}"
    fields = struct_pb2.Struct()
    fields.update({"phone": "13800138000"})
    project = pb.ProjectFacts(project_id=f"p{n}", form_key=form, name=f"压测项目{n}", amount="10000.00",
                              region="east", business_line="iot", fields=fields)
    notice = pb.NoticeSpec(kind="approval_request", project_id=f"p{n}", request_id_prefix=f"{wid}:notify:1:step0")
    notice.context.update({"project_name": f"压测项目{n}", "escalated": False})
    return pb.PlanChainRequest(
        request_id=f"{wid}:plan:1", project=project, submitter_id="rep",
        open_first=pb.OpenStepRequest(request_id=f"{wid}:open:1:0:1", step_index=0, report_scope=wid,
                                      report_key="1", notice=notice),
    )


def decision_request(n: int, task_id: str, instance_id: str) -> pb.RecordDecisionRequest:
    wid = f"project-lifecycle-p{n}"
    notice = pb.NoticeSpec(kind="approval_request", project_id=f"p{n}", request_id_prefix=f"{wid}:notify:1:step1")
    return pb.RecordDecisionRequest(
        request_id=f"{wid}:decide:{task_id}", task_id=task_id, actor_id="boss", action="approve", comment="ok",
        channel="web", report_scope=wid, report_key=f"d:{task_id}",
        open_next=pb.OpenStepRequest(request_id=f"{wid}:open:1:1:2", instance_id=instance_id, step_index=1,
                                     report_scope=wid, report_key="2", notice=notice),
    )




def run(url: str, calls: int, rounds: int) -> dict[str, float]:
    upgrade("approval", url)
    engine = make_engine(url)
    store = ApprovalStore(engine)
    servicer = ApprovalServicer(store=store, directory=directory())
    ctx: Any = Context()
    seed_policies(store)
    best: dict[str, float] = {}
    base = 0
    for r in range(rounds + 1):  # round 0 warms up (compiled statements, imports)
        count = 20 if r == 0 else calls
        numbers = range(base, base + count)
        base += count
        t0 = time.process_time()
        tasks = []
        for n in numbers:
            resp = servicer.PlanChain(plan_request(n, "two"), ctx)
            tasks.append((n, resp.first_opened.tasks[0].id, resp.instance_id))
        plan_ms = (time.process_time() - t0) * 1000 / count
        t0 = time.process_time()
        for n, task_id, instance_id in tasks:
            dec = servicer.RecordDecision(decision_request(n, task_id, instance_id), ctx)
            assert dec.next_opened.step.index == 1, dec
        decide_ms = (time.process_time() - t0) * 1000 / count
        if r:
            best["PlanChain"] = min(best.get("PlanChain", 1e9), plan_ms)
            best["RecordDecision"] = min(best.get("RecordDecision", 1e9), decide_ms)
            print(f"  round {r}: PlanChain {plan_ms:.3f} ms, RecordDecision {decide_ms:.3f} ms", flush=True)
    engine.dispose()
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--db-url", default="")
    args = ap.parse_args()
    url = args.db_url or f"sqlite:///{Path(tempfile.mkdtemp(prefix='bench-approval-')) / f'{uuid.uuid4().hex}.db'}"
    configure_logging(fmt="json")
    with quiet_stderr():
        best = run(url, args.calls, args.rounds)
    print(f"approval CPU per call ({'PostgreSQL' if url.startswith('postgres') else 'SQLite'}, "
          f"{args.calls} calls, best of {args.rounds})")
    for name, ms in best.items():
        print(f"  {name:15s} {ms:7.3f} ms")


if __name__ == "__main__":
    main()
