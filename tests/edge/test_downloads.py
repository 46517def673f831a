"""Files are stored by the service owning them and can be downloaded by whoever may see them:
task deliverables (`GET /api/v1/deliverables/{id}/content`, bytes sent over gRPC to the tasks
service — the edge writes nothing to its disk) and registry attachments
(`GET /api/v1/attachments/{id}/content`), with the stored type, an RFC 6266 download disposition
carrying the UTF-8 name, and nosniff. Anyone who may not see them gets 404, as for an unknown id."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import quote

import httpx
import pytest

from tests.edge.conftest import Org, Stack
from tests.edge.test_cost_access import approved_project

pytestmark = pytest.mark.asyncio(loop_scope="session")


def assert_download(r: httpx.Response, data: bytes, ctype: str, name: str) -> None:
    assert r.status_code == 200, r.text
    assert r.content == data
    assert r.headers["content-type"].split(";")[0] == ctype
    assert r.headers["x-content-type-options"] == "nosniff"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"")
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    assert disposition.isascii()


async def test_deliverable_stored_by_tasks_and_downloaded_by_who_sees_the_project(
    stack: Stack, admin: httpx.AsyncClient, org: Org
) -> None:
    pid = await approved_project(admin, org)  # finance approved it, director is CC'd
    rep, rep2 = org["rep"], org["rep2"]
    task = (await rep.post(f"/api/v1/projects/{pid}/tasks", json={"name": "验收", "assignee_id": org.user("rep2")}))
    assert task.status_code == 201, task.text
    tid = task.json()["id"]
    data = b"%PDF-1.4 " + uuid.uuid4().bytes * (5 * 1024 * 1024 // 16 + 1)  # > 5 MiB: over gRPC's default cap
    name = "验收报告 终版(v2).pdf"
    up = await rep2.post(f"/api/v1/tasks/{tid}/deliverables", files={"file": (name, data, "application/pdf")})
    assert up.status_code == 201, up.text
    d = up.json()
    digest = hashlib.sha256(data).hexdigest()
    assert d["sha256"] == digest and d["size"] == len(data)
    assert d["content_url"] == f"/api/v1/deliverables/{d['id']}/content"
    # the edge keeps nothing on its disk (it used to write <data-dir>/files/<sha[:2]>/<sha>)
    assert not (stack.settings.data_dir / "files" / digest[:2] / digest).exists()

    for who in ("rep", "rep2", "boss", "finance", "director"):
        assert_download(await org[who].get(d["content_url"]), data, "application/pdf", name)
    assert_download(await admin.get(d["content_url"]), data, "application/pdf", name)
    r = await org["outsider"].get(d["content_url"])
    assert r.status_code == 404 and r.json()["error"]["code"] == "deliverable_not_found", r.text
    assert (await rep.get("/api/v1/deliverables/nope/content")).status_code == 404
    async with stack.client(token=None) as anonymous:
        assert (await anonymous.get(d["content_url"])).status_code == 401

    listed = (await org["boss"].get(f"/api/v1/tasks/{tid}/deliverables")).json()["items"]
    assert [x["id"] for x in listed] == [d["id"]]
    assert (await org["outsider"].get(f"/api/v1/tasks/{tid}/deliverables")).status_code == 404
    exe = {"file": ("x.exe", b"MZ", "application/x-msdownload")}
    bad = await rep.post(f"/api/v1/tasks/{tid}/deliverables", files=exe)
    assert bad.status_code == 422 and [v["field"] for v in bad.json()["error"]["details"]] == ["file"], bad.text


async def test_attachment_downloaded_by_who_may_read_its_field(admin: httpx.AsyncClient, org: Org) -> None:
    key = f"attform-{org.run}"
    form = {
        "title": "附件报备",
        "fields": [
            {"key": "doc", "label": "合同", "type": "attachment"},
            {"key": "floor", "label": "底价单", "type": "attachment", "read_roles": ["finance"]},
        ],
    }
    assert (await admin.put(f"/api/v1/forms/{key}", json=form)).status_code == 200
    rep = org["rep"]
    doc_bytes, floor_bytes = b"%PDF-1.4 contract " + uuid.uuid4().bytes, b"%PDF-1.4 floor " + uuid.uuid4().bytes
    doc = (await rep.post("/api/v1/attachments", files={"file": ("合同.pdf", doc_bytes, "application/pdf")})).json()
    floor = (await rep.post("/api/v1/attachments", files={"file": ("底价.pdf", floor_bytes, "application/pdf")})).json()
    body = {
        "form_key": key,
        "name": "附件项目",
        "customer": {"name": f"附件{uuid.uuid4().hex[:6]}有限公司"},
        "amount": "1000",
        "fields": {"doc": doc["id"], "floor": floor["id"]},
    }
    r = await rep.post("/api/v1/projects", json=body)
    assert r.status_code == 201, r.text

    doc_url, floor_url = (f"/api/v1/attachments/{a['id']}/content" for a in (doc, floor))
    assert_download(await rep.get(doc_url), doc_bytes, "application/pdf", "合同.pdf")  # uploader, owner
    assert_download(await rep.get(floor_url), floor_bytes, "application/pdf", "底价.pdf")
    assert_download(await org["boss"].get(doc_url), doc_bytes, "application/pdf", "合同.pdf")  # manager
    assert_download(await admin.get(floor_url), floor_bytes, "application/pdf", "底价.pdf")
    # the manager sees the project but may not read the restricted field; strangers see nothing
    for who, url in (("boss", floor_url), ("outsider", doc_url), ("rep2", doc_url)):
        r = await org[who].get(url)
        assert r.status_code == 404 and r.json()["error"]["code"] == "attachment_not_found", (who, r.text)
    assert (await rep.get("/api/v1/attachments/sha256:" + "0" * 64 + "/content")).status_code == 404
