"""``baobei rebuild-read-models``: recompute the reporting read models from the sources of truth —
reporting's own stored event log, plus every project as the registry has it (read through the
registry's gRPC ListProjects as an admin viewer, never its database)."""

from __future__ import annotations

import structlog

from baobei.core.grpc_client import channel
from baobei.core.settings import Settings
from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1.reporting_service_pb2_grpc import ReportingServiceStub
from baobei.reporting_facts import registry_snapshot

log = structlog.get_logger(__name__)
PAGE = 200


def registry_projects(stub: RegistryServiceStub, *, timeout: float) -> list[pb.ProjectSnapshot]:
    viewer = registry_pb2.Viewer(user_id="reporting-rebuild", is_admin=True)
    out: list[pb.ProjectSnapshot] = []
    cursor = ""
    while True:
        page = stub.ListProjects(
            registry_pb2.ListProjectsRequest(viewer=viewer, limit=PAGE, cursor=cursor), timeout=timeout
        )
        out.extend(registry_snapshot(p) for p in page.items)
        cursor = page.next_cursor
        if not cursor:
            return out


def run(settings: Settings) -> pb.RebuildResponse:
    reg_ch, rep_ch = channel(settings.addr("registry")), channel(settings.addr("reporting"))
    try:
        projects = registry_projects(RegistryServiceStub(reg_ch), timeout=settings.rpc_timeout)
        # The rebuild itself may take a while on a big event log: the batch deadline.
        resp: pb.RebuildResponse = ReportingServiceStub(rep_ch).Rebuild(
            pb.RebuildRequest(projects=projects), timeout=settings.batch_rpc_timeout)
    finally:
        reg_ch.close()
        rep_ch.close()
    log.info("reporting.rebuild_done", events=resp.events, projects=resp.projects, tasks=resp.tasks)
    return resp
