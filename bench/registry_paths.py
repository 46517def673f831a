"""CPU per call of the registry's lifecycle write paths, in-process on a migrated database (SQLite
file by default, ``--db-url`` for PostgreSQL): ``--n`` CreateProject, then SubmitProject of each
(with its reporting event id, as the lifecycle workflow sends it), then SetProjectStatus → active
(the lifecycle's Finish: event "approved", a comment, a reporting event id; the initial team is
written), each phase timed with ``time.process_time`` after a warm-up. Logging as the service
configures it (JSON lines), written to /dev/null.

On 2026-12-06 (2-core machine shared with other work; two runs each, SQLite): ORM units of work
create 3.2–3.4, submit 2.0–2.4, approve 2.0–2.3 ms CPU per call; on prebuilt Core statements
1.4–1.6, 1.3–1.5 and 1.1 ms (7.1–8.1 → 3.8–4.2 ms per project). PostgreSQL: 12.1 → 6.5 ms per
project (create 5.2 → 2.4, submit 3.3 → 2.3, approve 3.7 → 1.9).

    PYTHONPATH=$PWD .venv/bin/python -m bench.registry_paths [--n 300] [--db-url URL]
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

from baobei.core.db import make_engine
from baobei.core.logging import configure_logging
from baobei.core.migrations import upgrade
from baobei.registry.v1 import registry_service_pb2 as pb
from bench.quiet import quiet_stderr
from services.registry.models import processed_request
from services.registry.servicer import RegistryServicer


class Context:
    """Enough of a grpc.ServicerContext for in-process calls (a refusal raises)."""

    def invocation_metadata(self) -> tuple[Any, ...]:
        return ()

    def time_remaining(self) -> float | None:
        return None

    def abort(self, code: Any, details: str) -> None:
        raise RuntimeError(f"{code}: {details}")

    def abort_with_status(self, status: Any) -> None:
        raise RuntimeError(f"{status.code}: {status.details}")




def struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


def timed(label: str, calls: list[Callable[[], Any]], warm: int) -> float:
    for call in calls[:warm]:
        call()
    started = time.process_time()
    wall = time.perf_counter()
    for call in calls[warm:]:
        call()
    cpu = (time.process_time() - started) * 1000 / (len(calls) - warm)
    ms = (time.perf_counter() - wall) * 1000 / (len(calls) - warm)
    print(f"{label:<28} {cpu:7.2f} ms CPU/call  {ms:7.2f} ms wall/call  ({len(calls) - warm} calls)", flush=True)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--warm", type=int, default=20)
    parser.add_argument("--db-url", default="")
    args = parser.parse_args()
    url = args.db_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'registry.db'}"
    configure_logging(fmt="json", level="INFO", component="registry")
    upgrade("registry", url)
    engine = make_engine(url)
    servicer = RegistryServicer(engine, processed_request)
    ctx = Context()
    run = uuid.uuid4().hex[:6]
    rep, boss = f"rep-{run}", f"boss-{run}"
    total = args.n + args.warm
    with quiet_stderr():
        servicer.UpsertOrg(pb.UpsertOrgRequest(
            request_id=f"org-{run}", departments=[pb.Department(id=f"d-{run}", name="销售部", manager_id=boss)],
            users=[pb.User(id=rep, name="销售", department_id=f"d-{run}", roles=["sales"]),
                   pb.User(id=boss, name="经理", department_id=f"d-{run}", roles=["manager"])]), ctx)
        servicer.PutForm(pb.PutFormRequest(request_id=f"form-{run}", key=f"one-{run}", title="报备", fields=[
            pb.FormField(key="phone", label="电话", type="phone")]), ctx)
    ids: list[str] = []

    def create(i: int) -> None:
        tag = uuid.uuid4().hex
        ids.append(servicer.CreateProject(pb.CreateProjectRequest(
            request_id=f"create-{run}-{i}", owner_id=rep, form_key=f"one-{run}", name=f"压测项目{tag[:16]}",
            customer=pb.Customer(name=f"压测客户{tag[16:32]}"), amount="10000.00",
            fields=struct({"phone": "13800138000"})), ctx).project.id)

    def submit(i: int) -> None:
        pid = ids[i]
        servicer.SubmitProject(pb.SubmitProjectRequest(
            request_id=f"project-{pid}:submit:1", project_id=pid, actor_id=rep,
            report_event_id=f"project-{pid}:project.submitted:1"), ctx)

    def approve(i: int) -> None:
        pid = ids[i]
        servicer.SetProjectStatus(pb.SetProjectStatusRequest(
            request_id=f"project-{pid}:status:1:active", project_id=pid, status=pb.PROJECT_STATUS_ACTIVE,
            actor_id=boss, event="approved", comment="同意", report_event_id=f"project-{pid}:project.approved:1"), ctx)

    print(f"{engine.dialect.name}, {args.n} calls per phase after {args.warm} warm-up calls")
    with quiet_stderr():
        results = {label: timed(label, [functools.partial(fn, i) for i in range(total)], args.warm)
                   for label, fn in (("CreateProject", create), ("SubmitProject", submit),
                                     ("SetProjectStatus(active)", approve))}
    print(f"{'sum':<28} {sum(results.values()):7.2f} ms CPU per project")
    engine.dispose()


if __name__ == "__main__":
    main()
