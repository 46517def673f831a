"""Issue 19, the round trip: 1,000 projects with every field type, exported through the edge
(.xlsx and .csv) and imported back, report 0 changes (every row ``unchanged``); three edited
cells report exactly those three changes and make them; a row may not edit a project past
draft/returned or one changed since the export (``版本``), and the row error says why."""

from __future__ import annotations

import io
import uuid
from datetime import datetime
from typing import Any

import grpc
import httpx
import pytest
from openpyxl import load_workbook

from baobei.core.grpc_client import channel
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.uscc import check_char
from tests.edge.conftest import Org, Stack
from tests.policies import no_approval_policy
from tests.sheets import xlsx

pytestmark = pytest.mark.asyncio(loop_scope="session")
N = 1000
FIELDS = [
    {"key": "note", "label": "说明", "type": "text"},
    {"key": "memo", "label": "备注", "type": "textarea"},
    {"key": "seats", "label": "人数", "type": "number"},
    {"key": "margin", "label": "毛利", "type": "money"},
    {"key": "due", "label": "截止", "type": "date"},
    {"key": "kind", "label": "类型", "type": "select", "options": ["新签", "续签"]},
    {"key": "tags", "label": "标签", "type": "multiselect", "options": ["软件", "硬件", "服务"]},
    {"key": "mobile", "label": "手机", "type": "phone"},
    {"key": "mail", "label": "邮箱", "type": "email"},
    {"key": "tax", "label": "税号", "type": "uscc"},
    {"key": "sales", "label": "销售", "type": "user"},
    {"key": "dept", "label": "所在部门", "type": "department"},
    {"key": "doc", "label": "合同", "type": "attachment"},
]


def uscc_of(i: int) -> str:
    first17 = f"91350100MA{i:07d}"
    return first17 + check_char(first17)



def seed_sheet(tag: str, org: Org, attachment: str) -> bytes:
    head = ["行键", "项目名称", "客户名称", "统一社会信用代码", "联系人", "客户电话", "金额", "区域", "业务线",
            "开始日期", "结束日期", "负责人", "状态", *[f["label"] for f in FIELDS]]
    rows: list[list[Any]] = [head]
    for i in range(N):
        rows.append([
            f"{tag}-{i}", f"往返{i}", f"往返{tag}客户{i}有限公司", uscc_of(i), f"联系人{i}", f"139{i:08d}",
            f"{1000 + i}.{i % 100:02d}", "华东" if i % 2 else "华南", "软件", "2026-12-01", "2027-06-30",
            org.user("rep"), "已生效" if i % 10 == 9 else "草稿",
            f"说明{i}", f"第一行\n第二行{i}", i % 50, f"{i}.50", "2027-01-15", "续签" if i % 3 else "新签",
            "软件、服务" if i % 2 else "硬件", f"137{i:08d}", f"u{i}@example.cn", uscc_of(i + 5000),
            org.user("rep2"), org.dept, attachment if i % 100 == 0 else None,
        ])
    return xlsx(rows)


async def post(admin: httpx.AsyncClient, form: str, name: str, content: bytes, **data: Any) -> dict[str, Any]:
    r = await admin.post("/api/v1/imports/projects", files={"file": (name, content)},
                         data={"form_key": form, **{k: str(v).lower() for k, v in data.items()}}, timeout=600)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_export_import_round_trip(stack: Stack, admin: httpx.AsyncClient, org: Org) -> None:
    tag = uuid.uuid4().hex[:6]
    form = f"trip-{org.run}"
    r = await admin.put(f"/api/v1/forms/{form}", json={"title": "往返", "fields": FIELDS})
    assert r.status_code == 200, r.text
    assert (await admin.put(**no_approval_policy(form))).status_code == 200
    r = await admin.post("/api/v1/attachments", files={"file": ("合同.pdf", b"%PDF-1.4 trip", "application/pdf")})
    assert r.status_code == 201, r.text
    attachment = r.json()["id"]
    # The 1,000 projects are filed straight through the registry (no lifecycles to start: drafts).
    ch = channel(stack.settings.registry_addr)
    try:
        seeded = pb_grpc.RegistryServiceStub(ch).ImportProjects(pb.ImportProjectsRequest(
            request_id=uuid.uuid4().hex, form_key=form, actor_id="admin", actor_is_admin=True,
            data=seed_sheet(tag, org, attachment), filename="seed.xlsx"), timeout=600)
    except grpc.RpcError as err:
        raise AssertionError(err.details()) from err
    finally:
        ch.close()
    assert seeded.created == N, seeded.errors[:3]

    r = await admin.get("/api/v1/exports/projects", params={"format": "xlsx", "q": f"往返{tag}"}, timeout=600)
    assert r.status_code == 200, r.text
    exported = r.content
    rows = [list(x) for x in load_workbook(io.BytesIO(exported)).active.iter_rows(values_only=True)]
    assert len(rows) == N + 1 and {"项目编号", "版本", "状态", "部门", "表单", "创建时间"} <= set(rows[0])

    # Unchanged: nothing created, nothing updated, no change reported — dry run and for real.
    for dry_run in (True, False):
        back = await post(admin, form, "projects.xlsx", exported, dry_run=dry_run)
        assert (back["created"], back["updated"], back["unchanged"], back["invalid"]) == (0, 0, N, 0), back["errors"]
        assert back["changes"] == [] and back["errors"] == []
    r = await admin.get("/api/v1/exports/projects", params={"format": "csv", "q": f"往返{tag}"}, timeout=600)
    back = await post(admin, form, "projects.csv", r.content, dry_run=True)
    assert (back["created"], back["updated"], back["unchanged"], back["changes"]) == (0, 0, N, [])

    col = {h: i for i, h in enumerate(rows[0])}
    # As the richer export writes it (numbers, date cells, Chinese labels, owners by name): still 0.
    typed = [list(row) for row in rows]
    for row in typed[1:]:
        row[col["金额"]] = float(row[col["金额"]])
        row[col["毛利"]] = float(row[col["毛利"]])
        for h in ("开始日期", "结束日期", "截止"):
            if isinstance(row[col[h]], str):  # the export already writes date cells
                row[col[h]] = datetime.fromisoformat(row[col[h]])
        if isinstance(row[col["创建时间"]], str):
            row[col["创建时间"]] = datetime.fromisoformat(
                str(row[col["创建时间"]]).replace("Z", "")).replace(tzinfo=None)
        row[col["状态"]] = {"draft": "草稿", "active": "已生效"}.get(row[col["状态"]], row[col["状态"]])
        row[col["负责人"]] = "销售甲"  # a name every test org shares: the stored owner wins
        row[col["销售"]] = f"销售乙（{org.user('rep2')}）"  # the export names the person; add the id
        row[col["部门"]] = "销售一部"
    back = await post(admin, form, "typed.xlsx", xlsx(typed), dry_run=True)
    assert (back["created"], back["updated"], back["unchanged"], back["invalid"]) == (0, 0, N, 0), back["errors"]
    assert back["changes"] == []  # the stored people, named by name: confirmed, not reported

    # Three cells edited in Excel → exactly those three changes.
    drafts = [i for i, row in enumerate(rows) if i and row[col["状态"]] in ("draft", "草稿", "Draft")]
    a, b, c = drafts[:3]
    edited = [list(row) for row in rows]
    edited[a][col["金额"]] = "1,234,567.80"  # typed as people type: also a normalisation
    edited[b][col["标签"]] = "软件、硬件、服务"
    edited[c][col["截止"]] = "2027年3月1日"
    sheet = xlsx(edited)
    dry = await post(admin, form, "edited.xlsx", sheet, dry_run=True)
    assert (dry["created"], dry["updated"], dry["unchanged"], dry["invalid"]) == (0, 3, N - 3, 0), dry["errors"]
    edits = sorted((ch["row"], ch["field"], ch["after"]) for ch in dry["changes"] if ch["kind"] == "edit")
    assert edits == [(a + 1, "amount", "1234567.80"), (b + 1, "fields.tags", "软件、硬件、服务"),
                     (c + 1, "fields.due", "2027-03-01")]
    normalised = [(ch["row"], ch["column"], ch["before"], ch["after"])
                  for ch in dry["changes"] if ch["kind"] == "normalised"]
    assert normalised == [(a + 1, "金额", "1,234,567.80", "1234567.80"), (c + 1, "截止", "2027年3月1日", "2027-03-01")]
    done = await post(admin, form, "edited.xlsx", sheet)
    assert (done["updated"], done["unchanged"]) == (3, N - 3)
    for i, path, value in ((a, "amount", "1234567.80"), (b, "fields.tags", ["软件", "硬件", "服务"]),
                           (c, "fields.due", "2027-03-01")):
        pid = (await admin.get("/api/v1/projects", params={"q": rows[i][col["项目编号"]]})).json()["items"][0]["id"]
        project = (await admin.get(f"/api/v1/projects/{pid}")).json()
        assert (project["amount"] if path == "amount" else project["fields"][path[7:]]) == value
        assert project["version"] == int(rows[i][col["版本"]]) + 1

    # The same file again: its edits are in, so nothing changes (its 版本 is stale, but no edit).
    again = await post(admin, form, "edited.xlsx", sheet, dry_run=True)
    assert (again["updated"], again["unchanged"], again["invalid"]) == (0, N, 0)
    assert [ch for ch in again["changes"] if ch["kind"] == "edit"] == []

    # Refused with the reason: an edit to an active project, an edit on a stale 版本.
    active = next(i for i, row in enumerate(rows) if i and row[col["状态"]] not in ("draft", "草稿", "Draft"))
    refused = [list(row) for row in edited]
    refused[active][col["项目名称"]] = "改名"
    refused[a][col["金额"]] = "1"
    bad = await post(admin, form, "refused.xlsx", xlsx(refused), dry_run=True)
    errors = {(e["row"], e["field"]): e["message"] for e in bad["errors"]}
    code = rows[active][col["项目编号"]]
    assert errors[(active + 1, "code")] == f"项目 {code} 已生效，只有草稿或退回的项目可以通过导入修改"
    assert "已被修改" in errors[(a + 1, "version")] and bad["invalid"] == 2
    r = await admin.post("/api/v1/imports/projects", files={"file": ("refused.xlsx", xlsx(refused))},
                         data={"form_key": form})
    assert r.status_code == 422 and f"rows[{active + 1}].code" in {d["field"] for d in r.json()["error"]["details"]}


