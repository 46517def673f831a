"""gRPC surface of the reporting service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from sqlalchemy.engine import Engine

from baobei.core.errors import FieldViolation, NotFound, ValidationFailed
from baobei.core.grpc_server import rpc
from baobei.reporting.v1 import reporting_service_pb2 as pb
from baobei.reporting.v1 import reporting_service_pb2_grpc as pb_grpc
from services.reporting import analytics, mapping, reviews, store

MAX_LIMIT = 100_000
MAX_BATCH = 1000


class ReportingServicer(pb_grpc.ReportingServiceServicer):
    def __init__(self, *, engine: Engine) -> None:
        self.engine = engine

    @rpc
    def IngestEvent(self, request: pb.IngestEventRequest, context: grpc.ServicerContext) -> pb.IngestEventResponse:
        event, fact = mapping.event(request.event)
        applied = store.ingest(self.engine, event=event, fact=fact, now=datetime.now(UTC))
        return pb.IngestEventResponse(applied=applied)

    @rpc
    def IngestEvents(self, request: pb.IngestEventsRequest, context: grpc.ServicerContext) -> pb.IngestEventsResponse:
        """The outbox relay's batch: every event read (checked) first, so a bad one refuses the
        batch naming events[i] before any is applied; then all are ingested in order, each exactly
        like IngestEvent (once per event id), in one transaction (``store.ingest_batch``)."""
        if len(request.events) > MAX_BATCH:
            raise ValidationFailed([FieldViolation("events", f"一次最多 {MAX_BATCH} 个事件",
                                                   f"at most {MAX_BATCH} events per call")])
        read = []
        for i, message in enumerate(request.events):
            try:
                read.append(mapping.event(message))
            except ValidationFailed as err:
                # The single-event path names "event.<field>": here it is events[i].<field>.
                raise ValidationFailed([FieldViolation(f"events[{i}].{v.field.removeprefix('event.')}", v.zh, v.en)
                                        for v in err.violations]) from None
        now = datetime.now(UTC)
        applied = store.ingest_batch(self.engine, read, now=now)
        return pb.IngestEventsResponse(applied=applied, duplicates=len(read) - applied)

    @rpc
    def Portfolio(self, request: pb.PortfolioRequest, context: grpc.ServicerContext) -> pb.PortfolioResponse:
        if not 0 <= request.limit <= MAX_LIMIT or request.offset < 0:
            raise ValidationFailed([FieldViolation("limit", "分页参数超出范围", "limit/offset out of range")])
        data = store.portfolio(
            self.engine,
            scope=mapping.scope(request.all, request.project_ids, request.filters, request.withheld),
            now=mapping.now_of(request),
            limit=request.limit,
            offset=request.offset,
        )
        return mapping.portfolio(data)

    @rpc
    def ProjectReport(
        self, request: pb.ProjectReportRequest, context: grpc.ServicerContext
    ) -> pb.ProjectReportResponse:
        report = store.project_report(self.engine, project_id=request.project_id.strip(), now=mapping.now_of(request))
        if report is None:
            raise NotFound("项目不存在", "project not found")
        return mapping.project_report(report)

    @rpc
    def Analytics(self, request: pb.AnalyticsRequest, context: grpc.ServicerContext) -> pb.AnalyticsResponse:
        table = analytics.run(
            self.engine,
            report=request.report.strip(),
            group_by=request.group_by.strip(),
            scope=mapping.scope(request.all, request.project_ids, request.filters, request.withheld),
            now=mapping.now_of(request),
        )
        return pb.AnalyticsResponse(table=mapping.table(table))

    @rpc
    def ListWarnings(self, request: pb.ListWarningsRequest, context: grpc.ServicerContext) -> pb.ListWarningsResponse:
        rows = store.list_warnings(
            self.engine,
            all_projects=request.all,
            project_ids=[p.strip() for p in request.project_ids if p.strip()],
            user_id=request.user_id.strip(),
            include_cleared=request.include_cleared,
        )
        return pb.ListWarningsResponse(warnings=[mapping.warning(w) for w in rows])

    @rpc
    def EvaluateWarnings(
        self, request: pb.EvaluateWarningsRequest, context: grpc.ServicerContext
    ) -> pb.EvaluateWarningsResponse:
        raised, cleared = store.evaluate_all(self.engine, now=mapping.now_of(request))
        return pb.EvaluateWarningsResponse(raised=raised, cleared=cleared)

    @rpc
    def GetHealthSettings(
        self, request: pb.GetHealthSettingsRequest, context: grpc.ServicerContext
    ) -> pb.GetHealthSettingsResponse:
        return pb.GetHealthSettingsResponse(settings=mapping.settings_out(store.thresholds(self.engine)))

    @rpc
    def SetHealthSettings(
        self, request: pb.SetHealthSettingsRequest, context: grpc.ServicerContext
    ) -> pb.SetHealthSettingsResponse:
        wanted = mapping.settings_in(request.settings, store.thresholds(self.engine))
        saved = store.set_thresholds(self.engine, value=wanted, now=datetime.now(UTC))
        return pb.SetHealthSettingsResponse(settings=mapping.settings_out(saved))

    @rpc
    def Rebuild(self, request: pb.RebuildRequest, context: grpc.ServicerContext) -> pb.RebuildResponse:
        projects = [mapping.registry_project(p) for p in request.projects if p.id.strip()]
        result = store.rebuild(self.engine, projects=projects, now=datetime.now(UTC), read=mapping.stored_event)
        return pb.RebuildResponse(events=result.events, projects=result.projects, tasks=result.tasks)

    @rpc
    def GetReview(self, request: pb.GetReviewRequest, context: grpc.ServicerContext) -> pb.GetReviewResponse:
        found = reviews.get(self.engine, project_id=request.project_id.strip())
        if found is None:
            raise NotFound("该项目尚无复盘", "the project has no review yet")
        return pb.GetReviewResponse(review=mapping.review(found))

    @rpc
    def SearchLessons(
        self, request: pb.SearchLessonsRequest, context: grpc.ServicerContext
    ) -> pb.SearchLessonsResponse:
        if not 0 <= request.limit <= reviews.MAX_LESSONS:
            raise ValidationFailed([FieldViolation("limit", "limit 超出范围", "limit is out of range")])
        items, tags = reviews.search(
            self.engine,
            scope=mapping.scope(request.all, request.project_ids, pb.Filters(), request.withheld),
            q=request.q,
            tag=request.tag.strip(),
            outcome=request.outcome.strip(),
            business_line=request.business_line.strip(),
            limit=request.limit or 100,
        )
        return pb.SearchLessonsResponse(items=[mapping.lesson(x) for x in items], tags=tags)
