"""Registration (issue 3) through the public HTTP API on the real ``baobei dev``: a form with
conditional rules, defaults and an attachment field; collisions warn vs block; protection holder
and waitlist (候补), also under concurrent duplicate submissions; field-level read permissions on
GET / list / export; optimistic versions on PATCH; Excel import (dry run, real run — imported rows
reach the portfolio) and export; search filters. No protection timer is waited for here (the
time-skipping workflow tests cover them)."""

from __future__ import annotations

import csv
import io
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from cli.devstack import DevStack
from tests.policies import no_approval_policy
from tests.sheets import xlsx as sheet


@dataclass
class Org:
    run: str
    clients: dict[str, httpx.Client]

    def __getitem__(self, who: str) -> httpx.Client:
        return self.clients[who]

    def user(self, who: str) -> str:
        return f"{who}-{self.run}"


USERS = {"rep": ["sales"], "rep2": ["sales"], "rep3": ["sales"], "rep4": ["sales"], "boss": ["manager"],
         "fin": ["finance"], "outsider": ["sales"]}


@pytest.fixture(scope="module")
def org(dev_stack: DevStack) -> Iterator[Org]:
    run = uuid.uuid4().hex[:6]
    admin = dev_stack.client()
    dept, other = f"reg-{run}", f"oth-{run}"
    r = admin.put("/api/v1/org", json={
        "departments": [{"id": dept, "name": "华东销售部", "manager_id": f"boss-{run}"},
                        {"id": other, "name": "其他部门"}],
        "users": [{"id": f"{who}-{run}", "name": who, "department_id": other if who == "outsider" else dept,
                   "roles": roles} for who, roles in USERS.items()],
    })
    assert r.status_code == 200, r.text
    clients = {"admin": admin}
    for who in USERS:
        r = admin.post(f"/api/v1/users/{who}-{run}/tokens")
        assert r.status_code == 201, r.text
        clients[who] = dev_stack.client(r.json()["token"])
    try:
        yield Org(run=run, clients=clients)
    finally:
        for c in clients.values():
            c.close()


def put_form(org: Org, *, fields: list[dict[str, Any]] | None = None, **settings: Any) -> str:
    key = f"e2e-{org.run}-{uuid.uuid4().hex[:4]}"
    body = {
        "title": "项目报备",
        "fields": fields or [
            {"key": "phone", "label": "电话", "type": "phone", "required": True},
            {"key": "kind", "label": "类型", "type": "select", "options": ["新签", "续签"], "default": "新签"},
            {"key": "old_contract", "label": "原合同号", "type": "text", "required_when": "fields.kind == '续签'"},
            {"key": "start", "label": "开始", "type": "date"},
            {"key": "end", "label": "结束", "type": "date", "visible_when": "fields.start != ''"},
            {"key": "margin", "label": "毛利", "type": "money", "read_roles": ["finance"],
             "write_roles": ["finance"]},
            {"key": "doc", "label": "合同扫描件", "type": "attachment", "accept": [".pdf"], "max_size": 4096},
        ],
        "rules": [{"expr": "fields.end >= fields.start", "field": "fields.end", "message": "结束不能早于开始",
                   "message_en": "end before start"}],
        "settings": settings,
    }
    r = org["admin"].put(f"/api/v1/forms/{key}", json=body)
    assert r.status_code == 200, r.text
    r = org["admin"].put(**no_approval_policy(key))
    assert r.status_code == 200, r.text
    return key


def project(form: str, customer: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"form_key": form, "name": f"项目{uuid.uuid4().hex[:6]}", "customer": {"name": customer},
                            "amount": "1000", "fields": {"phone": "13700001111"}}
    body.update(over)
    return body


def violations(r: httpx.Response, status: int = 422) -> dict[str, str]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] and err["message"]
    return {d["field"]: d["message"] for d in err["details"]}


def poll(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s")
        time.sleep(0.1)


def active(client: httpx.Client, pid: str) -> dict[str, Any]:
    """The project once its workflow has made it active (a no-approval policy: approved on submit)."""
    def check() -> dict[str, Any] | None:
        p = client.get(f"/api/v1/projects/{pid}").json()
        return p if p["status"] == "active" else None

    return dict(poll(check))


def test_form_conditional_rules_defaults_and_attachment(org: Org) -> None:
    form = put_form(org)
    rep = org["rep"]
    pdf = rep.post("/api/v1/attachments", files={"file": ("合同.pdf", b"%PDF-1.4 e2e " + org.run.encode(),
                                                          "application/pdf")})
    assert pdf.status_code == 201, pdf.text
    att = pdf.json()["id"]
    assert att.startswith("sha256:")
    big = rep.post("/api/v1/attachments", files={"file": ("大.pdf", b"%PDF" + b"x" * 5000, "application/pdf")})
    assert big.status_code == 201
    exe = rep.post("/api/v1/attachments", files={"file": ("a.exe", b"MZ\x90\x00", "application/x-msdownload")})
    assert set(violations(exe)) == {"file"}

    customer = f"表单{org.run}科技有限公司"
    # Every violation at once: the conditional requirement, the mobile number, the attachment's size.
    got = violations(rep.post("/api/v1/projects", json=project(form, customer, fields={
        "phone": "12345", "kind": "续签", "doc": big.json()["id"]})))
    assert set(got) == {"fields.phone", "fields.old_contract", "fields.doc"}
    got = violations(rep.post("/api/v1/projects", json=project(form, customer, fields={
        "phone": "13700001111", "start": "2026-05-02", "end": "2026-05-01"}), headers={"Accept-Language": "en"}))
    assert got == {"fields.end": "end before start"}

    r = rep.post("/api/v1/projects", json=project(form, customer, fields={"phone": "13700001111", "doc": att,
                                                                           "end": "2026-01-01"}))
    assert r.status_code == 201, r.text
    p = rep.get(f"/api/v1/projects/{r.json()['id']}").json()
    assert p["fields"]["kind"] == "新签"  # the default
    assert p["fields"]["doc"] == att
    assert "end" not in p["fields"]  # hidden (start empty): not kept
    assert p["status"] == "draft" and p["form_version"] >= 1


def test_collisions_warn_and_block(org: Org) -> None:
    warn, block = put_form(org), put_form(org, conflict_policy="block")
    rep, rep2, admin = org["rep"], org["rep2"], org["admin"]
    base = f"杭州撞{org.run}科技有限公司"
    first = rep.post("/api/v1/projects", json=project(warn, base, name="智慧园区", submit=True))
    assert first.status_code == 201, first.text
    fid = first.json()["id"]
    variant = f"浙江省撞{org.run}科技（杭州）股份有限公司"
    r = rep2.post("/api/v1/projects", json=project(warn, variant, name="智慧园区"))
    assert r.status_code == 201, r.text
    conflicts = rep2.get(f"/api/v1/projects/{r.json()['id']}").json()["conflicts"]
    assert [c["project_id"] for c in conflicts] == [fid] and "客户名称相同" in conflicts[0]["reason"]

    def count() -> int:
        return len(admin.get("/api/v1/projects", params={"customer": base, "limit": 200}).json()["items"])

    before = count()
    r = rep2.post("/api/v1/projects", json=project(block, variant))
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "customer_conflict" and fid in r.json()["error"]["message"]
    assert count() == before


def test_protection_holder_and_waitlisted_rival(org: Org) -> None:
    form = put_form(org, protection_days=30, protection_extend_days=10, protection_max_days=60)
    customer = f"保护{org.run}网络有限公司"
    rep, rep2 = org["rep"], org["rep2"]
    r = rep.post("/api/v1/projects", json=project(form, customer, submit=True))
    assert r.status_code == 201, r.text
    holder = r.json()["id"]
    p = active(rep, holder)

    def protected() -> dict[str, Any] | None:
        pr = rep.get(f"/api/v1/projects/{holder}").json()["protection"]
        return pr if pr["state"] == "protected" else None

    pr = poll(protected)  # the ProjectProtection workflow started the period
    assert pr["until"] and pr["cap"] and pr["since"]
    assert p["protection"]["state"] in ("holder", "protected")

    # A rival registration of the same customer (another spelling) is accepted and waits.
    r = rep2.post("/api/v1/projects", json=project(form, f"保护{org.run}网络（北京）有限公司", submit=True))
    assert r.status_code == 201, r.text
    rival = r.json()["id"]
    got = rep2.get(f"/api/v1/projects/{rival}").json()
    assert got["protection"]["state"] == "waitlisted"
    assert got["protection"]["position"] == 1 and got["protection"]["holder_project_id"] == holder
    assert any(c["project_id"] == holder for c in got["conflicts"])
    # A follow-up by the holder's owner extends the period (never past the cap).
    r = rep.post(f"/api/v1/projects/{holder}/follow-ups", json={"note": "拜访客户"})
    assert r.status_code == 200, r.text
    assert r.json()["protection"]["follow_ups"] == 1


def test_concurrent_duplicate_submissions_one_holder_ordered_queue(org: Org) -> None:
    form = put_form(org, protection_days=30)
    customer = f"并发{org.run}信息技术有限公司"
    reps = ["rep", "rep2", "rep3", "rep4", "rep"]
    barrier = threading.Barrier(len(reps))
    results: list[httpx.Response] = []
    errors: list[BaseException] = []

    def go(who: str) -> None:
        try:
            barrier.wait(10)
            results.append(org[who].post("/api/v1/projects", json=project(form, customer, submit=True)))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=go, args=(who,)) for who in reps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert [r.status_code for r in results] == [201] * len(reps), [r.text for r in results]
    ids = [r.json()["id"] for r in results]
    admin = org["admin"]

    def settled() -> list[dict[str, Any]] | None:
        ps = [admin.get(f"/api/v1/projects/{pid}").json() for pid in ids]
        return ps if all(p["status"] == "active" for p in ps) else None

    states = [p["protection"] for p in poll(settled, timeout=20)]
    holders = [pid for pid, s in zip(ids, states, strict=True) if s["state"] in ("holder", "protected")]
    assert len(holders) == 1, states
    queue = [s for s in states if s["state"] == "waitlisted"]
    assert sorted(s["position"] for s in queue) == list(range(1, len(reps)))
    assert {s["holder_project_id"] for s in queue} == {holders[0]}


def test_field_permissions_on_get_list_export(org: Org) -> None:
    form = put_form(org)
    tag = f"权限{org.run}"
    fin, boss, rep = org["fin"], org["boss"], org["rep"]
    denied = rep.post("/api/v1/projects", json=project(form, f"{tag}甲公司", fields={"phone": "13700001111",
                                                                                    "margin": "1.00"}))
    assert denied.status_code == 403 and denied.json()["error"]["details"][0]["field"] == "fields.margin"
    r = fin.post("/api/v1/projects", json=project(form, f"{tag}甲公司", name=tag, fields={
        "phone": "13700001111", "margin": "777.00"}))
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert fin.get(f"/api/v1/projects/{pid}").json()["fields"]["margin"] == "777.00"  # owner and finance
    seen = boss.get(f"/api/v1/projects/{pid}").json()  # the department's manager: no finance role
    assert seen["fields"]["phone"] == "13700001111" and "margin" not in seen["fields"]
    listed = boss.get("/api/v1/projects", params={"q": tag}).json()["items"]
    assert [p["id"] for p in listed] == [pid] and "777.00" not in str(listed)
    assert org["outsider"].get(f"/api/v1/projects/{pid}").status_code == 404
    for fmt in ("csv", "xlsx"):
        r = boss.get("/api/v1/exports/projects", params={"format": fmt, "q": tag})
        assert r.status_code == 200, r.text
        rows = table(r.content, fmt)
        assert "电话" in rows[0] and "毛利" not in rows[0] and len(rows) == 2
        assert not any("777" in str(c) for c in rows[1])
        own = table(fin.get("/api/v1/exports/projects", params={"format": fmt, "q": tag}).content, fmt)
        assert "毛利" in own[0] and "777.00" in money_text(own[1])


def test_patch_with_stale_version_is_409(org: Org) -> None:
    form = put_form(org)
    rep = org["rep"]
    pid = rep.post("/api/v1/projects", json=project(form, f"编辑{org.run}有限公司")).json()["id"]
    r = rep.patch(f"/api/v1/projects/{pid}", json={"version": 1, "amount": "2500"})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["amount"] == "2500.00"
    stale = rep.patch(f"/api/v1/projects/{pid}", json={"version": 1, "name": "改名"})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    got = rep.get(f"/api/v1/projects/{pid}").json()
    assert got["version"] == 2 and got["name"] != "改名"
    assert any(h["event"] == "edited" for h in got["history"])


def money_text(row: list[Any]) -> list[str]:
    """Cells as text, numbers with two decimals (an XLSX export writes amounts as numbers)."""
    return [f"{c:.2f}" if isinstance(c, int | float) and not isinstance(c, bool) else str(c) for c in row]


def table(content: bytes, fmt: str) -> list[list[Any]]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    return [list(row) for row in load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)]



def test_excel_import_reaches_reporting_and_export(org: Org) -> None:
    form = put_form(org)
    admin, boss = org["admin"], org["boss"]
    tag = uuid.uuid4().hex[:6]
    head: list[Any] = ["行键", "项目名称", "客户名称", "金额", "区域", "电话", "毛利", "负责人"]
    good: list[list[Any]] = [
        [f"{tag}-1", "导入一", f"导入{tag}甲公司", 1200.5, "华东", "13700001111", "50", org.user("rep")],
        [f"{tag}-2", "导入二", f"导入{tag}乙公司", "300", "华南", "13700001112", "", org.user("rep2")]]
    bad: list[Any] = [f"{tag}-3", "导入三", f"导入{tag}丙公司", "-5", "华东", "12", "", "nobody"]

    def post(content: bytes, **flags: bool) -> httpx.Response:
        return admin.post("/api/v1/imports/projects", files={"file": ("sheet.xlsx", content)},
                          data={"form_key": form, **{k: str(v).lower() for k, v in flags.items()}})

    dry = post(sheet([head, *good, bad]), dry_run=True)
    assert dry.status_code == 200, dry.text
    d = dry.json()
    assert (d["rows"], d["created"], d["invalid"], d["project_ids"]) == (3, 2, 1, [])
    assert {(e["row"], e["field"]) for e in d["errors"]} == {(4, "amount"), (4, "fields.phone"), (4, "owner_id")}
    assert {e["column"] for e in d["errors"]} == {"金额", "电话", "负责人"}
    refused = violations(post(sheet([head, *good, bad])))
    assert {"rows[4].amount", "rows[4].fields.phone", "rows[4].owner_id"} <= set(refused)
    assert admin.get("/api/v1/projects", params={"customer": f"导入{tag}"}).json()["items"] == []

    r = post(sheet([head, *good]))
    assert r.status_code == 200, r.text
    ids = r.json()["project_ids"]
    assert r.json()["created"] == 2 and len(ids) == 2
    items = admin.get("/api/v1/projects", params={"customer": f"导入{tag}"}).json()["items"]
    assert {p["id"] for p in items} == set(ids) and {p["status"] for p in items} == {"active"}
    # Imported rows reach reporting (the lifecycle workflow records project.created) — no rebuild.

    def in_portfolio() -> bool:
        body = admin.get("/api/v1/reports/portfolio").json()
        return {p["id"]: p["status"] for p in body["projects"] if p["id"] in ids} == dict.fromkeys(ids, "active")

    poll(in_portfolio, timeout=10)
    # The started workflow does not submit an imported active project (nor may anyone).
    assert admin.post(f"/api/v1/projects/{ids[0]}/submit").status_code == 409
    got = admin.get(f"/api/v1/projects/{ids[0]}").json()
    assert got["status"] == "active" and [h["event"] for h in got["history"]] == ["imported"]
    again = post(sheet([head, *good]))
    assert (again.json()["created"], again.json()["existing"]) == (0, 2)

    for fmt in ("xlsx", "csv"):
        r = boss.get("/api/v1/exports/projects", params={"format": fmt, "customer": f"导入{tag}"})
        assert r.status_code == 200, r.text
        rows = table(r.content, fmt)
        assert "毛利" not in rows[0] and "电话" in rows[0] and len(rows) == 3
        r = admin.get("/api/v1/exports/projects", params={"format": fmt, "customer": f"导入{tag}"})
        rows = table(r.content, fmt)
        assert "毛利" in rows[0] and "50.00" in [c for row in rows[1:] for c in money_text(row)]


def test_search_filters(org: Org) -> None:
    form = put_form(org)
    rep = org["rep"]
    tag = uuid.uuid4().hex[:6]
    made = {}
    for amount, region, customer in (("10", "华东", "甲"), ("500", "华东", "乙"), ("5000", "华南", "甲")):
        r = rep.post("/api/v1/projects", json=project(form, f"检索{tag}{customer}有限公司", amount=amount,
                                                      region=region))
        assert r.status_code == 201, r.text
        made[amount] = r.json()["id"]

    def ids(**params: str) -> set[str]:
        return {p["id"] for p in rep.get("/api/v1/projects", params={"q": f"检索{tag}", **params}).json()["items"]}

    assert ids() == set(made.values())
    assert ids(amount_min="100", amount_max="5000") == {made["500"], made["5000"]}
    assert ids(amount_max="499.99") == {made["10"]}
    assert ids(region="华东") == {made["10"], made["500"]}
    assert ids(customer=f"检索{tag}甲有限公司") == {made["10"], made["5000"]}
    assert ids(customer=f"检索{tag}甲", region="华南", amount_min="1000") == {made["5000"]}
    assert org["outsider"].get("/api/v1/projects", params={"q": f"检索{tag}"}).json()["items"] == []
    bad = violations(rep.get("/api/v1/projects", params={"amount_min": "abc"}))
    assert set(bad) == {"amount_min"}
