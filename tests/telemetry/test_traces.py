"""One decision is one trace: the edge's HTTP span → the Temporal update → the workflow's update
handler → the activity → the gRPC call (client and server) → SQL statements, all under the trace
id the edge returned as ``X-Request-ID``."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.edge.conftest import Org, eventually
from tests.edge.test_approvals import submitted, todo_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

ONE_STEP = [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}]


def trace_of(exporter: InMemorySpanExporter, trace_id: str) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.context and format(s.context.trace_id, "032x") == trace_id]


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    out = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        out.append(span)
    return out


async def test_one_decision_is_one_trace(admin: Any, org: Org, spans: InMemorySpanExporter) -> None:
    _, pid = await submitted(admin, org, steps=ONE_STEP)
    todo = await todo_for(org["boss"], pid)
    spans.clear()

    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200, r.text
    trace_id = r.headers["X-Request-ID"]
    assert len(trace_id) == 32 and int(trace_id, 16)

    def names() -> set[str]:
        return {s.name for s in trace_of(spans, trace_id)}

    wanted = {
        "POST /api/v1/approval-tasks/{task_id}/decision",  # edge (route template)
        "StartWorkflowUpdate:decide",  # the edge's Temporal client
        "HandleUpdate:decide",  # the workflow's update handler
        "StartActivity:approval.RecordDecision",  # the workflow schedules the activity …
        "RunActivity:approval.RecordDecision",  # … the worker runs it
        "/baobei.approval.v1.ApprovalService/RecordDecision",  # gRPC client and server
    }
    try:
        await eventually(lambda: _async(wanted <= names()), timeout=10)
    except AssertionError:
        seen = sorted((format(s.context.trace_id, "032x")[:8], s.name) for s in spans.get_finished_spans() if s.context)
        raise AssertionError(f"missing {wanted - names()} in trace {trace_id[:8]}; spans: {seen}") from None
    found = trace_of(spans, trace_id)
    by_id = {s.context.span_id: s for s in found if s.context}

    # One tree: a single root, the edge's server span; every other span hangs under it.
    roots = [s for s in found if s.parent is None or s.parent.span_id not in by_id]
    assert [(s.name, s.kind) for s in roots] == [("POST /api/v1/approval-tasks/{task_id}/decision", SpanKind.SERVER)]

    # The service's server span, under the activity, with the SQL statements of the decision under it.
    server = next(s for s in found if s.name.endswith("/RecordDecision") and s.kind == SpanKind.SERVER)
    assert "RunActivity:approval.RecordDecision" in {a.name for a in ancestors(server, by_id)}
    statements = [s for s in found if s.instrumentation_scope and "sqlalchemy" in s.instrumentation_scope.name]
    assert statements, sorted(names())
    assert any(server in ancestors(s, by_id) for s in statements)
    # The database the service runs on: SQLite files by default, PostgreSQL in the second CI pass.
    assert any((s.attributes or {}).get("db.system") in ("sqlite", "postgresql")
               or (s.attributes or {}).get("db.system.name") for s in statements)

    # The project's other traffic (e.g. the lifecycle's own background steps) is not in this trace
    # unless caused by it: nothing in it belongs to another project's workflow.
    workflow_ids = {str((s.attributes or {}).get("temporalWorkflowID")) for s in found
                    if (s.attributes or {}).get("temporalWorkflowID")}
    assert workflow_ids == {f"project-{pid}"}


async def _async(value: Any) -> Any:
    return value
