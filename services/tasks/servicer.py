"""gRPC surface of the tasks service: translate, delegate to domain/store, translate back."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.engine import Engine
from sqlmodel import Session

from baobei.core.blobs import KEY_PREFIX, BlobStore, blob_store
from baobei.core.db import run_once
from baobei.core.errors import FieldViolation, NotFound, ValidationFailed, require
from baobei.core.grpc_server import rpc
from baobei.tasks.v1 import tasks_service_pb2 as pb
from baobei.tasks.v1 import tasks_service_pb2_grpc as pb_grpc
from services.tasks import domain, gantt, gantt_pdf, mapping, models, rules, vouchers
from services.tasks.calendar_client import CalendarSource, CalendarUnavailable
from services.tasks.models import processed_request
from services.tasks.store import costs as cost_store
from services.tasks.store import deliverables as deliverable_store
from services.tasks.store import plans as plan_store
from services.tasks.store import rows as task_rows
from services.tasks.store import rules as rule_store
from services.tasks.store import tasks as task_store
from services.tasks.store import vouchers as voucher_store

M = TypeVar("M", bound=Message)

ASSIGNEE_DEFAULT, ASSIGNEE_MAX = 20, 100


def _required(value: str, path: str, zh: str) -> str:
    violations = require(value, path, zh, path)
    if violations:
        raise ValidationFailed(violations)
    return value.strip()


def _decimal(value: str, path: str) -> Decimal:
    try:
        number = Decimal(value.strip() or "0")
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or number < 0:
        raise ValidationFailed(
            [FieldViolation(path, f"{path} 必须是非负数字", f"{path} must be a non-negative number")]
        )
    return number


MAX_VOUCHERS = 1000


class TasksServicer(pb_grpc.TasksServiceServicer):
    def __init__(
        self, *, engine: Engine, blobs: BlobStore | None = None, calendar: CalendarSource | None = None
    ) -> None:
        self.engine = engine
        self.calendar = calendar or CalendarSource()
        # Deliverable bytes (files under the data dir or S3, by settings).
        self.blobs: BlobStore = blobs if blobs is not None else blob_store()

    def _once(self, request_id: str, method: str, response_type: type[M], apply: Callable[[Session], M]) -> M:
        return run_once(
            self.engine,
            processed_request,
            request_id=request_id,
            method=method,
            response_type=response_type,
            apply=apply,
        )

    @rpc
    def CreateTask(self, request: pb.CreateTaskRequest, context: grpc.ServicerContext) -> pb.CreateTaskResponse:
        command = mapping.new_task_full(request)
        return self._once(
            command.request_id,
            "CreateTask",
            pb.CreateTaskResponse,
            lambda session: mapping.create_response(
                task_store.create_planned_task(session, command=command, now=datetime.now(UTC))
            ),
        )

    @rpc
    def ListTasks(self, request: pb.ListTasksRequest, context: grpc.ServicerContext) -> pb.ListTasksResponse:
        project_id = _required(request.project_id, "project_id", "项目")
        return mapping.list_response(task_store.list_tasks(self.engine, project_id=project_id))

    @rpc
    def ListAssigneeProjects(
        self, request: pb.ListAssigneeProjectsRequest, context: grpc.ServicerContext
    ) -> pb.ListAssigneeProjectsResponse:
        user_id = _required(request.user_id, "user_id", "用户")
        return pb.ListAssigneeProjectsResponse(project_ids=task_store.assignee_projects(self.engine, user_id=user_id))

    @rpc
    def ListAssigneeTasks(
        self, request: pb.ListAssigneeTasksRequest, context: grpc.ServicerContext
    ) -> pb.ListAssigneeTasksResponse:
        user_id = _required(request.user_id, "user_id", "用户")
        status = request.status.strip()
        violations: list[FieldViolation] = []
        if status and status not in (*task_store.ASSIGNEE_STATUSES, task_store.OPEN):
            violations.append(FieldViolation("status", "状态只能是 todo、in_progress、done、blocked 或 open",
                                             "status must be todo, in_progress, done, blocked or open"))
        if not 0 <= request.limit <= ASSIGNEE_MAX:
            violations.append(FieldViolation("limit", f"须在 1 到 {ASSIGNEE_MAX} 之间",
                                             f"must be between 1 and {ASSIGNEE_MAX}"))
        if violations:
            raise ValidationFailed(violations)
        tasks, next_cursor = task_store.assignee_tasks(
            self.engine, user_id=user_id, status=status, limit=request.limit or ASSIGNEE_DEFAULT,
            cursor=request.cursor.strip(),
        )
        return pb.ListAssigneeTasksResponse(tasks=[mapping.full_task(t) for t in tasks], next_cursor=next_cursor)

    @rpc
    def GetTask(self, request: pb.GetTaskRequest, context: grpc.ServicerContext) -> pb.GetTaskResponse:
        with Session(self.engine) as session:
            task = task_rows.get_task(session, task_id=request.task_id.strip())
            return pb.GetTaskResponse(task=mapping.full_task(task))

    @rpc
    def UpdateTask(self, request: pb.UpdateTaskRequest, context: grpc.ServicerContext) -> pb.UpdateTaskResponse:
        patch = mapping.task_patch(request)

        def apply(session: Session) -> pb.UpdateTaskResponse:
            task, previous = task_store.update_task(session, patch=patch, now=datetime.now(UTC))
            return pb.UpdateTaskResponse(task=mapping.full_task(task), previous_status=previous)

        return self._once(patch.request_id, "UpdateTask", pb.UpdateTaskResponse, apply)

    @rpc
    def GetSchedule(self, request: pb.GetScheduleRequest, context: grpc.ServicerContext) -> pb.GetScheduleResponse:
        project_id = _required(request.project_id, "project_id", "项目")
        violations: list[FieldViolation] = []
        today = domain.parse_date(request.today, "today", violations) or task_rows.today_cn()
        if request.format not in ("", "json", "svg", "pdf"):
            violations.append(
                FieldViolation("format", "格式必须是 json、svg 或 pdf", "format must be json, svg or pdf")
            )
        if violations:
            raise ValidationFailed(violations)
        schedule, plan, finish = plan_store.schedule_of(self.engine, project_id=project_id, today=today)
        svg = gantt.render(schedule, title=request.title, today=today) if request.format == "svg" else ""
        response = mapping.schedule_response(
            schedule, baseline_number=plan.baseline_no if plan else 0, plan_version=plan.version if plan else 0, svg=svg
        )
        if finish is not None:
            response.forecast.CopyFrom(mapping.finish_forecast(finish))
        if request.format == "pdf":
            response.pdf = gantt_pdf.render(gantt.rows_of(schedule), title=request.title, today=today)
        return response

    @rpc
    def SaveBaseline(self, request: pb.SaveBaselineRequest, context: grpc.ServicerContext) -> pb.SaveBaselineResponse:
        project_id = _required(request.project_id, "project_id", "项目")

        def apply(session: Session) -> pb.SaveBaselineResponse:
            number, n = plan_store.save_baseline(session, project_id=project_id, name=request.name,
                                                 now=datetime.now(UTC))
            return pb.SaveBaselineResponse(number=number, tasks=n)

        return self._once(request.request_id, "SaveBaseline", pb.SaveBaselineResponse, apply)

    @rpc
    def AddCost(self, request: pb.AddCostRequest, context: grpc.ServicerContext) -> pb.AddCostResponse:
        cmd = domain.NewCost(
            request_id=request.request_id,
            project_id=request.project_id,
            kind=request.kind,
            task_id=request.task_id,
            hours=request.hours,
            rate=request.rate,
            amount=request.amount,
            note=request.note,
            at=request.at,
            actor_id=request.actor_id,
            actor=domain.CostActor(user_id=request.actor.user_id, relations=frozenset(request.actor.relations))
            if request.HasField("actor")
            else None,
        )
        return self._once(
            request.request_id,
            "AddCost",
            pb.AddCostResponse,
            lambda session: pb.AddCostResponse(
                cost=mapping.cost(cost_store.add_cost(session, cost=cmd, now=datetime.now(UTC)))
            ),
        )

    @rpc
    def ImportVouchers(
        self, request: pb.ImportVouchersRequest, context: grpc.ServicerContext
    ) -> pb.ImportVouchersResponse:
        source = request.source.strip()
        if not source or len(source) > 40:
            raise ValidationFailed([FieldViolation("source", "来源为必填项（最多 40 个字符）", "source is required")])
        if len(request.vouchers) > MAX_VOUCHERS:
            raise ValidationFailed([FieldViolation("vouchers", f"每次最多 {MAX_VOUCHERS} 张凭证",
                                                   f"at most {MAX_VOUCHERS} vouchers per call")])
        items = [
            vouchers.VoucherIn(row=v.row, voucher_id=v.voucher_id, project_id=v.project_id, amount=v.amount,
                               currency=v.currency, category=v.category, occurred_on=v.occurred_on,
                               description=v.description)
            for v in request.vouchers
        ]
        outcomes = voucher_store.import_vouchers(self.engine, source=source, items=items, actor_id=request.actor_id,
                                                 now=datetime.now(UTC))
        return pb.ImportVouchersResponse(results=[
            pb.VoucherResult(
                row=o.row, voucher_id=o.voucher_id, status=o.status, cost_id=o.cost_id, project_id=o.project_id,
                problems=[pb.VoucherProblem(field=p.field, code=code, message_zh=p.zh, message_en=p.en)
                          for code, p in o.problems],
            )
            for o in outcomes
        ])

    @rpc
    def GetCosts(self, request: pb.GetCostsRequest, context: grpc.ServicerContext) -> pb.GetCostsResponse:
        project_id = _required(request.project_id, "project_id", "项目")
        items, plan, tasks = cost_store.costs_of(self.engine, project_id=project_id)
        override = plan.budget if plan is not None else None
        overridden = override is not None
        budget = Decimal(override) if override is not None else _decimal(request.project_amount, "amount")
        actual = sum((Decimal(c.amount) for c in items), Decimal(0))
        by_kind: dict[str, Decimal] = {}
        by_task: dict[str, Decimal] = {}
        for c in items:
            by_kind[c.kind] = by_kind.get(c.kind, Decimal(0)) + Decimal(c.amount)
            if c.task_id:
                by_task[c.task_id] = by_task.get(c.task_id, Decimal(0)) + Decimal(c.amount)
        cent = domain.CENT
        return pb.GetCostsResponse(
            budget=str(budget.quantize(cent)),
            actual=str(actual.quantize(cent)),
            remaining=str((budget - actual).quantize(cent)),
            consumed_share=str((actual / budget).quantize(Decimal("0.0001"))) if budget > 0 else "",
            by_kind={k: str(v.quantize(cent)) for k, v in by_kind.items()},
            by_task=[
                pb.TaskCost(
                    task_id=t.id,
                    name=t.name,
                    actual=str(by_task.get(t.id, Decimal(0)).quantize(cent)),
                    estimate_hours=str(t.estimate_hours) if t.estimate_hours is not None else "",
                )
                for t in tasks
            ],
            items=[mapping.cost(c) for c in items],
            budget_overridden=overridden,
        )

    @rpc
    def SetBudget(self, request: pb.SetBudgetRequest, context: grpc.ServicerContext) -> pb.SetBudgetResponse:
        project_id = _required(request.project_id, "project_id", "项目")
        budget = _decimal(request.budget, "budget") if request.budget.strip() else None

        def apply(session: Session) -> pb.SetBudgetResponse:
            plan = plan_store.set_budget(session, project_id=project_id, budget=budget, now=datetime.now(UTC))
            return pb.SetBudgetResponse(budget=str(plan.budget) if plan.budget is not None else "")

        return self._once(request.request_id, "SetBudget", pb.SetBudgetResponse, apply)

    @rpc
    def AddDeliverable(
        self, request: pb.AddDeliverableRequest, context: grpc.ServicerContext
    ) -> pb.AddDeliverableResponse:
        task_id = request.task_id.strip()
        with Session(self.engine) as session:
            task_rows.get_task(session, task_id=task_id)  # an unknown task is 404 before the body is judged
        domain.check_deliverable(request.filename, request.content_type, request.data)
        # Content-addressed and idempotent: stored before the record, so a record never names
        # missing bytes (a failed insert leaves an unreferenced blob, harmless).
        key = self.blobs.put(request.data)

        def apply(session: Session) -> pb.AddDeliverableResponse:
            row = deliverable_store.add_deliverable(
                session,
                task_id=task_id,
                filename=request.filename,
                content_type=domain.deliverable_type(request.content_type),
                size=len(request.data),
                sha256=key.removeprefix(KEY_PREFIX),
                uploaded_by=request.uploaded_by,
                now=datetime.now(UTC),
            )
            return pb.AddDeliverableResponse(deliverable=mapping.deliverable(row))

        return self._once(request.request_id, "AddDeliverable", pb.AddDeliverableResponse, apply)

    @rpc
    def GetDeliverable(
        self, request: pb.GetDeliverableRequest, context: grpc.ServicerContext
    ) -> pb.GetDeliverableResponse:
        row = deliverable_store.get_deliverable(self.engine, deliverable_id=request.deliverable_id.strip())
        out = pb.GetDeliverableResponse(deliverable=mapping.deliverable(row))
        if request.with_content:
            data = self.blobs.get(KEY_PREFIX + row.sha256)
            if data is None:
                raise NotFound(f"交付物文件缺失：{row.id}", f"the deliverable's file is missing: {row.id}",
                               code="deliverable_not_found")
            out.data = data
        return out

    @rpc
    def ListDeliverables(
        self, request: pb.ListDeliverablesRequest, context: grpc.ServicerContext
    ) -> pb.ListDeliverablesResponse:
        rows = deliverable_store.deliverables_of(self.engine, task_id=request.task_id.strip())
        return pb.ListDeliverablesResponse(deliverables=[mapping.deliverable(d) for d in rows])

    @rpc
    def PutRule(self, request: pb.PutRuleRequest, context: grpc.ServicerContext) -> pb.PutRuleResponse:
        body = mapping.plain(request.body)
        rule = rule_store.parse_rule(request.key.strip(), body)

        def apply(session: Session) -> pb.PutRuleResponse:
            row = rule_store.put_rule(session, rule=rule, body=body, now=datetime.now(UTC))
            return pb.PutRuleResponse(rule=mapping.rule_doc(row))

        return self._once(request.request_id, "PutRule", pb.PutRuleResponse, apply)

    @rpc
    def ListRules(self, request: pb.ListRulesRequest, context: grpc.ServicerContext) -> pb.ListRulesResponse:
        with Session(self.engine) as session:
            return pb.ListRulesResponse(rules=[mapping.rule_doc(r) for r in rule_store.list_rules(session)])

    @rpc
    def PutDelayReasons(
        self, request: pb.PutDelayReasonsRequest, context: grpc.ServicerContext
    ) -> pb.PutDelayReasonsResponse:
        def apply(session: Session) -> pb.PutDelayReasonsResponse:
            out = plan_store.put_delay_reasons(session, reasons=[(r.code, r.label) for r in request.reasons])
            return pb.PutDelayReasonsResponse(reasons=[pb.DelayReason(code=c, label=label) for c, label in out])

        return self._once(request.request_id, "PutDelayReasons", pb.PutDelayReasonsResponse, apply)

    @rpc
    def ListDelayReasons(
        self, request: pb.ListDelayReasonsRequest, context: grpc.ServicerContext
    ) -> pb.ListDelayReasonsResponse:
        with Session(self.engine) as session:
            out = task_store.delay_reason_codes(session)
        return pb.ListDelayReasonsResponse(reasons=[pb.DelayReason(code=c, label=label) for c, label in out])

    @rpc
    def PutTemplate(self, request: pb.PutTemplateRequest, context: grpc.ServicerContext) -> pb.PutTemplateResponse:
        body = mapping.plain(request.body)

        def apply(session: Session) -> pb.PutTemplateResponse:
            row = plan_store.put_template(
                session, business_line=request.business_line.strip(), body=body, now=datetime.now(UTC)
            )
            return pb.PutTemplateResponse(
                business_line=row.business_line, version=row.version, tasks=len(body.get("tasks") or [])
            )

        return self._once(request.request_id, "PutTemplate", pb.PutTemplateResponse, apply)

    @rpc
    def GetTemplate(self, request: pb.GetTemplateRequest, context: grpc.ServicerContext) -> pb.GetTemplateResponse:
        with Session(self.engine) as session:
            row = plan_store.get_template(session, business_line=request.business_line.strip())
            return pb.GetTemplateResponse(
                business_line=row.business_line, version=row.version, body=mapping._struct(json.loads(row.body))
            )

    @rpc
    def ApplyTemplate(
        self, request: pb.ApplyTemplateRequest, context: grpc.ServicerContext
    ) -> pb.ApplyTemplateResponse:
        project_id = _required(request.project_id, "project_id", "项目")
        violations: list[FieldViolation] = []
        start = domain.parse_date(request.start, "start", violations) or task_rows.today_cn()
        if violations:
            raise ValidationFailed(violations)
        # The embedded evaluation is checked before anything is applied (a refusal changes nothing).
        facts = self._rule_facts(request.evaluate, "evaluate.") if request.HasField("evaluate") else None
        if facts is not None and facts.id != project_id:
            raise ValidationFailed([FieldViolation("evaluate.project_id", "只能评估所套用模板的项目",
                                                   "must be the project the template is applied to")])

        def apply(session: Session) -> pb.ApplyTemplateResponse:
            n, version = plan_store.apply_template(
                session,
                project_id=project_id,
                business_line=request.business_line.strip(),
                start=start,
                now=datetime.now(UTC),
                request_id=request.request_id,
            )
            number = 0
            if request.baseline_name.strip():
                number, _ = plan_store.save_baseline(session, project_id=project_id,
                                                     name=request.baseline_name.strip(), now=datetime.now(UTC))
            return pb.ApplyTemplateResponse(created=n, template_version=version, baseline_number=number)

        resp = self._once(request.request_id, "ApplyTemplate", pb.ApplyTemplateResponse, apply)
        if facts is not None:
            # After the apply and outside its stored answer: a retry gets the stored apply answer
            # and an evaluation as fresh as a separate EvaluateRules call would give.
            resp.evaluation.SetInParent()  # present even when empty: the caller knows it was asked
            resp.evaluation.CopyFrom(self._evaluate_rules(request.evaluate, facts, context))
        return resp

    @rpc
    def EvaluateRules(
        self, request: pb.EvaluateRulesRequest, context: grpc.ServicerContext
    ) -> pb.EvaluateRulesResponse:
        return self._evaluate_rules(request, self._rule_facts(request), context)

    def _rule_facts(self, request: pb.EvaluateRulesRequest, prefix: str = "") -> rules.ProjectFacts:
        """The validated project facts of an EvaluateRules request (also of the one embedded in
        ApplyTemplate, whose field paths get ``prefix``)."""
        return rules.ProjectFacts(
            id=_required(request.project_id, f"{prefix}project_id", "项目"),
            owner_id=request.owner_id,
            name=request.project_name,
            business_line=request.business_line,
            amount=_decimal(request.project_amount, f"{prefix}project_amount"),
            protection_until=(
                request.protection_until.ToDatetime(tzinfo=UTC) if request.HasField("protection_until") else None
            ),
        )

    def _evaluate_rules(
        self, request: pb.EvaluateRulesRequest, facts: rules.ProjectFacts, context: grpc.ServicerContext
    ) -> pb.EvaluateRulesResponse:
        """EvaluateRules' answer for the project ``facts`` (from ``_rule_facts``)."""
        project_id = facts.id
        now = request.now.ToDatetime(tzinfo=UTC) if request.HasField("now") else datetime.now(UTC)
        # The company calendar is read (over gRPC from approval) only if a rule has working time
        # to count, once, and afresh for each evaluation; nothing is written before it is read.
        try:
            result = rule_store.evaluate_rules(
                self.engine, project=facts, now=now, after_seq=request.after_seq, calendar=self.calendar.current
            )
        except CalendarUnavailable as err:  # UNAVAILABLE: the activity retries
            context.abort(grpc.StatusCode.UNAVAILABLE, str(err))
        resp = pb.EvaluateRulesResponse(
            fires=[mapping.fire(f, project_id) for f in result.evaluation.fires],
            last_seq=result.last_seq,
            errors=result.evaluation.errors,
        )
        if result.evaluation.next_wake is not None:
            resp.next_wake.FromDatetime(result.evaluation.next_wake.astimezone(UTC))
        # The current state of the changed tasks (a reporting read model keeps the latest anyway).
        payloads = {task_id: mapping.task_event_payload(r.task, r) for task_id, r in result.rows.items()}
        for e in result.events:
            payload = json.loads(e.payload or "{}") if e.kind == "cost.recorded" else payloads.get(e.task_id, {})
            ev = pb.ReportableEvent(
                seq=int(e.id or 0), kind=e.kind, task_id=e.task_id, payload=mapping._struct(payload)
            )
            at = e.at if e.at.tzinfo else e.at.replace(tzinfo=UTC)
            ev.at.FromDatetime(at)
            resp.events.append(ev)
        return resp

    @rpc
    def RecordFire(self, request: pb.RecordFireRequest, context: grpc.ServicerContext) -> pb.RecordFireResponse:
        f = request.fire
        _required(f.key, "fire.key", "触发标识")
        fired_at = f.fired_at.ToDatetime(tzinfo=UTC) if f.HasField("fired_at") else datetime.now(UTC)
        row = models.RuleFire(
            key=f.key[:200],
            project_id=f.project_id,
            rule_key=f.rule_key[:63],
            task_id=f.task_id,
            title=f.title[:300],
            recipients=json.dumps(
                {
                    "user_ids": list(f.recipients.user_ids),
                    "roles": list(f.recipients.roles),
                    "escalate": list(f.recipients.escalate),
                    "webhooks": list(f.recipients.webhooks),
                },
                ensure_ascii=False,
            ),
            fired_at=fired_at,
        )
        with Session(self.engine) as session:
            recorded = rule_store.record_fire(session, fire=row)
            session.commit()
        return pb.RecordFireResponse(recorded=recorded)

    @rpc
    def ListFires(self, request: pb.ListFiresRequest, context: grpc.ServicerContext) -> pb.ListFiresResponse:
        project_id = _required(request.project_id, "project_id", "项目")
        fires = rule_store.fires_of(self.engine, project_id=project_id)
        return pb.ListFiresResponse(fires=[mapping.fire(f) for f in fires])


__all__ = ["TasksServicer", "date"]
