"""The Temporal UI as the ops console: every workflow of a project carries the project's code as
``BaobeiCode`` and its code and name as the summary, so ``BaobeiCode = "BB-…"`` (what people quote)
lists all of them — here on the dev server the edge tests run, after a project is approved (its
lifecycle's delivery start launches the execution and, the form keeping a protection period, the
protection workflow) and closed (the closure workflow)."""

from __future__ import annotations

import httpx
import pytest

from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_approvals import todo_for
from tests.edge.test_projects import make_form
from tests.edge.test_projects import project as project_body
from workflows.contracts import search_attributes
from workflows.contracts.closure import closure_workflow_id

pytestmark = pytest.mark.asyncio(loop_scope="session")

ONE_STEP = [{"name": "经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any"}]


async def test_a_projects_workflows_are_found_by_its_code(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org, steps=ONE_STEP)
    r = await admin.put(f"/api/v1/forms/{form}", json={
        "title": "项目报备", "fields": [{"key": "phone", "label": "电话", "type": "phone", "required": True}],
        "settings": {"protection_days": 30}})
    assert r.status_code == 200, r.text
    r = await org["rep"].post("/api/v1/projects", json={**project_body(form), "submit": True})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    todo = await todo_for(org["boss"], pid)
    r = await org["boss"].post(f"/api/v1/approval-tasks/{todo['id']}/decision", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    r = await org["rep"].post(f"/api/v1/projects/{pid}/close", json={"comment": "验收完成"})
    assert r.status_code == 200, r.text
    project = (await org["rep"].get(f"/api/v1/projects/{pid}")).json()
    code, name = project["code"], project["name"]
    assert code.startswith("BB-")

    wanted = {f"project-{pid}", f"execution-{pid}", f"protection-{pid}", closure_workflow_id(pid)}

    async def listed() -> set[str] | None:
        found = {w.id async for w in stack.temporal.list_workflows(f'BaobeiCode = "{code}"')}
        return found if found >= wanted else None

    found = await eventually(listed, timeout=30)
    assert found == wanted  # nothing of another project

    for wid in sorted(wanted):
        desc = await stack.temporal.get_workflow_handle(wid).describe()
        assert desc.typed_search_attributes.get(search_attributes.CODE) == code
        summary = await desc.static_summary()
        assert summary is not None and summary.startswith(f"{code} {name}"), (wid, summary)
        details = await desc.static_details()
        assert details is not None and code in details

    # The stuck-approval query of the README parses on the server (nothing of this project matches).
    stuck = 'ExecutionStatus = "Running" AND BaobeiStage = "approval" AND BaobeiSlaDeadline < "2000-01-01T00:00:00Z"'
    assert [w.id async for w in stack.temporal.list_workflows(f'{stuck} AND BaobeiCode = "{code}"')] == []
