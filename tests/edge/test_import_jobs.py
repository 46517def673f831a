"""Background imports over HTTP (issue 19): ``POST /api/v1/imports/projects`` with ``async=true``
→ 202 and a job; ``GET /api/v1/imports/{id}`` → its progress, errors and outcome, for the
importer or an admin only; the created projects' lifecycles are started when it is done."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.edge.conftest import Org, Stack, eventually
from tests.edge.test_registration import make_form
from workflows.contracts.lifecycle import workflow_id

pytestmark = pytest.mark.asyncio(loop_scope="session")
HEAD = "行键,项目名称,客户名称,金额,电话,类型,负责人\n"


def csv_rows(org: Org, n: int, tag: str, *, bad_row: int = 0) -> bytes:
    lines = [HEAD]
    for i in range(n):
        amount = "-5" if i + 2 == bad_row else str(1000 + i)
        lines.append(f"{tag}-{i},后台导入{i},后台{tag}客户{i}有限公司,{amount},137{i:08d},新签,{org.user('rep')}\n")
    return "".join(lines).encode()


async def post(admin: httpx.AsyncClient, form: str, data: bytes, **fields: Any) -> httpx.Response:
    return await admin.post("/api/v1/imports/projects", files={"file": ("rows.csv", data, "text/csv")},
                            data={"form_key": form, **{k: str(v).lower() for k, v in fields.items()}})


async def finished(admin: httpx.AsyncClient, job_id: str, seen: list[dict[str, Any]] | None = None,
                   timeout: float = 120) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        r = await admin.get(f"/api/v1/imports/{job_id}")
        assert r.status_code == 200, r.text
        if seen is not None:
            seen.append(r.json())
        return r.json() if r.json()["status"] in ("done", "failed") else None

    return dict(await eventually(check, timeout=timeout, interval=0.05))


async def test_background_import_progress_and_outcome(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    tag = uuid.uuid4().hex[:6]
    # A large dry run: progress counts up, nothing is stored.
    r = await post(admin, form, csv_rows(org, 1_500, tag), dry_run=True, **{"async": True})
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] in ("queued", "running") and r.headers["location"] == f"/api/v1/imports/{job['id']}"
    seen: list[dict[str, Any]] = []
    done = await finished(admin, job["id"], seen)
    assert done["status"] == "done" and done["dry_run"] and done["created"] == 1_500, done
    assert (done["rows_total"], done["rows_checked"], done["rows_done"]) == (1_500, 1_500, 1_500)
    checked = [s["rows_checked"] for s in seen]
    assert checked == sorted(checked)
    assert (await admin.get("/api/v1/projects", params={"q": f"后台{tag}"})).json()["items"] == []
    # A real one: the projects are stored and their lifecycles started.
    r = await post(admin, form, csv_rows(org, 12, tag), **{"async": True})
    assert r.status_code == 202, r.text
    done = await finished(admin, r.json()["id"])
    assert done["status"] == "done" and done["created"] == 12 and len(done["project_ids"]) == 12
    assert done["errors"] == [] and done["reason"] == "" and done["finished_at"]
    await eventually(lambda: _lifecycles_started(admin, done["id"]), timeout=60)
    for pid in done["project_ids"][:3]:
        await stack.temporal.get_workflow_handle(workflow_id(pid)).describe()
    # Only the importer (an admin here) and admins see a job.
    for who in ("rep", "boss"):
        r = await org[who].get(f"/api/v1/imports/{done['id']}")
        assert r.status_code == 404 and r.json()["error"]["code"] == "import_job_not_found", r.text
    assert (await admin.get("/api/v1/imports/nope")).status_code == 404
    # Rows already imported are skipped when the sheet comes again.
    r = await post(admin, form, csv_rows(org, 14, tag), **{"async": True})
    again = await finished(admin, r.json()["id"])
    assert (again["created"], again["existing"]) == (2, 12)


async def _lifecycles_started(admin: httpx.AsyncClient, job_id: str) -> bool:
    return bool((await admin.get(f"/api/v1/imports/{job_id}")).json()["lifecycles_started"])


async def test_background_import_with_a_bad_row_fails_whole(admin: httpx.AsyncClient, org: Org) -> None:
    form = await make_form(admin, org)
    tag = uuid.uuid4().hex[:6]
    r = await post(admin, form, csv_rows(org, 700, tag, bad_row=650), **{"async": True})
    assert r.status_code == 202, r.text
    done = await finished(admin, r.json()["id"])
    assert done["status"] == "failed" and "未导入任何行" in done["reason"]
    assert done["created"] == 0 and done["invalid"] == 1 and done["project_ids"] == []
    assert [(e["row"], e["field"]) for e in done["errors"]] == [(650, "amount")]
    assert (await admin.get("/api/v1/projects", params={"q": f"后台{tag}"})).json()["items"] == []
    # The synchronous answer is unchanged for existing callers (a 200 with the import's counts,
    # besides the lenient import's updated/unchanged/changes).
    r = await post(admin, form, csv_rows(org, 3, tag))
    assert r.status_code == 200 and set(r.json()) >= {"rows", "created", "existing", "invalid", "dry_run",
                                                      "errors", "project_ids"}
    # Not an admin: refused before anything is queued.
    r = await post(org["rep"], form, csv_rows(org, 3, tag), **{"async": True})
    assert r.status_code == 403
