"""RegistryService through a real gRPC channel to a server built by ``build`` (SQLite by default,
PostgreSQL with BAOBEI_TEST_PG_URL)."""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import json_format, struct_pb2

from baobei.core.db import make_engine
from baobei.core.grpc_client import metadata, read_failure
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService

VALID_USCC = "91350100M000100Y43"
OTHER_USCC = "914403001922038216"
S = pb.ProjectStatus


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("registry")


@pytest.fixture()
def stub(db_url: str, start_service: StartService) -> pb_grpc.RegistryServiceStub:
    return pb_grpc.RegistryServiceStub(start_service("registry", db_url=db_url).channel)


def rows(db_url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def fails(fn: Callable[..., Any], req: Any, code: grpc.StatusCode, locale: str = "zh") -> Any:
    with pytest.raises(grpc.RpcError) as err:
        fn(req, timeout=10, metadata=metadata(locale=locale))
    assert err.value.code() == code, err.value.details()
    return read_failure(err.value)


def struct(d: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(d)
    return s


ORG = pb.UpsertOrgRequest(
    request_id="org-1",
    departments=[
        pb.Department(id="hq", name="总部", manager_id="ceo"),
        pb.Department(id="east", name="华东", parent_id="hq"),
        pb.Department(id="sh", name="上海", parent_id="east", manager_id="mgr_sh"),
        pb.Department(id="team", name="上海一组", parent_id="sh", manager_id="lead"),
        pb.Department(id="bj", name="北京", parent_id="hq", manager_id="mgr_bj"),
    ],
    users=[
        pb.User(id="ceo", name="CEO", department_id="hq", roles=["exec"]),
        pb.User(id="mgr_sh", name="上海经理", department_id="sh", roles=["manager"]),
        pb.User(id="lead", name="组长", department_id="team", roles=["manager"]),
        pb.User(id="sales1", name="销售一", department_id="team", roles=["sales"], mobile="13800138000"),
        pb.User(id="sales2", name="销售二", department_id="team", roles=["sales"]),
        pb.User(id="mgr_bj", name="北京经理", department_id="bj", roles=["manager"]),
        pb.User(id="fin", name="财务", department_id="hq", roles=["finance"]),
    ],
)

FORM = pb.PutFormRequest(
    request_id="form-1",
    key="standard",
    title="标准报备",
    fields=[
        pb.FormField(key="industry", label="行业", type="select", required=True, options=["制造", "金融"]),
        pb.FormField(key="budget", label="预算", type="money", min="0", max="1000000"),
        pb.FormField(key="contact_phone", label="联系电话", type="phone"),
        pb.FormField(key="sponsor", label="发起人", type="user"),
        pb.FormField(key="floor_price", label="底价", type="money", read_roles=["finance"], write_roles=["finance"]),
        pb.FormField(key="po", label="采购单号", type="text", pattern=r"PO-\d{4}", min_length=7, max_length=7),
    ],
)


@pytest.fixture()
def seeded(stub: pb_grpc.RegistryServiceStub) -> pb_grpc.RegistryServiceStub:
    stub.UpsertOrg(ORG, timeout=10)
    stub.PutForm(FORM, timeout=10)
    return stub


_n = iter(range(1, 10_000))


def create(stub: pb_grpc.RegistryServiceStub, **kw: Any) -> pb.Project:
    n = next(_n)
    customer = kw.pop("customer", pb.Customer(name=f"客户{n}科技有限公司"))
    req = pb.CreateProjectRequest(
        request_id=kw.pop("request_id", f"create-{n}"), owner_id=kw.pop("owner_id", "sales1"),
        form_key=kw.pop("form_key", "standard"), name=kw.pop("name", f"项目{n}"), customer=customer,
        amount=kw.pop("amount", "1000"), fields=struct(kw.pop("fields", {"industry": "制造"})), **kw,
    )
    return stub.CreateProject(req, timeout=10).project


# ---------- org ----------


def test_upsert_org_and_queries(stub: pb_grpc.RegistryServiceStub) -> None:
    resp = stub.UpsertOrg(ORG, timeout=10)
    assert (resp.departments, resp.users) == (5, 7)
    # Same request id: the stored answer, nothing re-applied.
    assert stub.UpsertOrg(ORG, timeout=10) == resp

    user = stub.GetUser(pb.GetUserRequest(user_id="sales1"), timeout=10).user
    assert (user.name, user.department_id, list(user.roles)) == ("销售一", "team", ["sales"])
    assert user.mobile == "13800138000"
    fails(stub.GetUser, pb.GetUserRequest(user_id="nobody"), grpc.StatusCode.NOT_FOUND)

    def ids(**kw: Any) -> list[str]:
        return [u.id for u in stub.ListUsers(pb.ListUsersRequest(**kw), timeout=10).users]

    assert ids() == sorted(u.id for u in ORG.users)
    assert ids(role="manager") == ["lead", "mgr_bj", "mgr_sh"]
    assert ids(department_id="team") == ["lead", "sales1", "sales2"]
    assert ids(role="sales", department_id="team", user_ids=["sales2", "ceo"]) == ["sales2"]
    assert ids(role="nope") == []

    chain = stub.GetManagerChain(pb.GetManagerChainRequest(user_id="sales1"), timeout=10).links
    # "east" has no manager and is left out.
    assert [(link.department_id, link.manager_id) for link in chain] == [("team", "lead"), ("sh", "mgr_sh"),
                                                                         ("hq", "ceo")]
    fails(stub.GetManagerChain, pb.GetManagerChainRequest(user_id="ghost"), grpc.StatusCode.NOT_FOUND)

    # Upsert replaces by id: move sales2 to Beijing and give east a manager.
    stub.UpsertOrg(pb.UpsertOrgRequest(
        request_id="org-2",
        departments=[pb.Department(id="east", name="华东", parent_id="hq", manager_id="ceo")],
        users=[pb.User(id="sales2", name="销售二", department_id="bj", roles=["sales", "vip"])],
    ), timeout=10)
    chain = stub.GetManagerChain(pb.GetManagerChainRequest(user_id="sales2"), timeout=10).links
    assert [link.manager_id for link in chain] == ["mgr_bj", "ceo"]
    chain = stub.GetManagerChain(pb.GetManagerChainRequest(user_id="sales1"), timeout=10).links
    assert [link.department_id for link in chain] == ["team", "sh", "east", "hq"]
    assert ids(role="vip") == ["sales2"]


def test_upsert_org_validation(stub: pb_grpc.RegistryServiceStub) -> None:
    stub.UpsertOrg(ORG, timeout=10)
    bad = pb.UpsertOrgRequest(
        request_id="org-bad",
        departments=[pb.Department(id="hq", parent_id="team"), pb.Department(id="", name="x"),
                     pb.Department(id="y", parent_id="missing")],
        users=[pb.User(id="ok", department_id="hq"), pb.User(id="u", department_id="nowhere")],
    )
    f = fails(stub.UpsertOrg, bad, grpc.StatusCode.INVALID_ARGUMENT, locale="en")
    assert {v.field for v in f.violations} == {"departments[0].parent_id", "departments[1].id",
                                               "departments[2].parent_id", "users[1].department_id"}
    # Nothing of the rejected request was applied.
    fails(stub.GetUser, pb.GetUserRequest(user_id="ok"), grpc.StatusCode.NOT_FOUND)
    f = fails(stub.UpsertOrg, pb.UpsertOrgRequest(request_id=""), grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["request_id"]


# ---------- tokens ----------


def test_tokens(stub: pb_grpc.RegistryServiceStub, db_url: str) -> None:
    stub.UpsertOrg(ORG, timeout=10)
    token = stub.IssueToken(pb.IssueTokenRequest(request_id="t1", user_id="sales1"), timeout=10).token
    again = stub.IssueToken(pb.IssueTokenRequest(request_id="t1", user_id="sales1"), timeout=10).token
    assert re.fullmatch(r"bbt_[A-Za-z0-9_-]{43}", token) and again != token
    assert stub.Authenticate(pb.AuthenticateRequest(token=token), timeout=10).user.id == "sales1"
    assert stub.Authenticate(pb.AuthenticateRequest(token=again), timeout=10).user.id == "sales1"
    fails(stub.Authenticate, pb.AuthenticateRequest(token=token + "x"), grpc.StatusCode.UNAUTHENTICATED)
    fails(stub.Authenticate, pb.AuthenticateRequest(token=""), grpc.StatusCode.UNAUTHENTICATED)
    fails(stub.IssueToken, pb.IssueTokenRequest(request_id="t2", user_id="ghost"), grpc.StatusCode.NOT_FOUND)
    # Only the hash is stored, and the plaintext is nowhere in the database.
    stored = {r[0] for r in rows(db_url, "SELECT token_hash FROM access_token")}
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in (token, again)}
    blobs = rows(db_url, "SELECT response FROM processed_request")
    assert all(token.encode() not in bytes(b[0]) for b in blobs)


# ---------- forms ----------


def test_form_versioning(stub: pb_grpc.RegistryServiceStub) -> None:
    first = stub.PutForm(FORM, timeout=10)
    assert (first.key, first.version, first.created) == ("standard", 1, True)
    # Same definition, new request id: no new version.
    same = pb.PutFormRequest()
    same.CopyFrom(FORM)
    same.request_id = "form-2"
    assert (stub.PutForm(same, timeout=10).version, stub.PutForm(same, timeout=10).created) == (1, False)
    changed = pb.PutFormRequest()
    changed.CopyFrom(same)
    changed.request_id = "form-3"
    changed.fields.append(pb.FormField(key="notes", label="备注", type="textarea"))
    v2 = stub.PutForm(changed, timeout=10)
    assert (v2.version, v2.created) == (2, True)

    latest = stub.GetForm(pb.GetFormRequest(key="standard"), timeout=10).form
    assert latest.version == 2 and [f.key for f in latest.fields][-1] == "notes"
    budget = latest.fields[1]
    assert budget.HasField("min") and budget.min == "0" and not budget.HasField("min_length")
    assert list(latest.fields[4].read_roles) == ["finance"]
    assert latest.fields[5].pattern == r"PO-\d{4}" and latest.fields[5].max_length == 7
    v1 = stub.GetForm(pb.GetFormRequest(key="standard", version=1), timeout=10).form
    assert len(v1.fields) == 6 and v1.title == "标准报备" and v1.created_at.seconds > 0
    fails(stub.GetForm, pb.GetFormRequest(key="standard", version=3), grpc.StatusCode.NOT_FOUND)
    fails(stub.GetForm, pb.GetFormRequest(key="other"), grpc.StatusCode.NOT_FOUND)


def test_form_validation(stub: pb_grpc.RegistryServiceStub) -> None:
    bad = pb.PutFormRequest(
        request_id="bad-form", key="Bad!", title="",
        fields=[
            pb.FormField(key="a", type="text"),
            pb.FormField(key="a", type="text"),
            pb.FormField(key="b", type="select"),
            pb.FormField(key="c", type="text", pattern="[unclosed"),
            pb.FormField(key="d", type="number", min="5", max="1"),
            pb.FormField(key="e", type="blob"),
        ],
    )
    f = fails(stub.PutForm, bad, grpc.StatusCode.INVALID_ARGUMENT, locale="en")
    assert [v.field for v in f.violations] == ["key", "title", "fields[1].key", "fields[2].options",
                                               "fields[3].pattern", "fields[4].min", "fields[5].type"]
    assert f.message == "validation failed"


# ---------- projects ----------


def test_create_reports_every_violation_in_zh_and_en(seeded: pb_grpc.RegistryServiceStub) -> None:
    req = pb.CreateProjectRequest(
        request_id="bad-1", owner_id="sales1", form_key="standard", name="",
        customer=pb.Customer(name="", uscc="91350100M000100Y44", phone="1234"),
        amount="12.345", start_date="2026-05-01", end_date="2026-04-30",
        fields=struct({"budget": "2000000", "contact_phone": "12345678901", "sponsor": "ghost",
                       "po": "PO-12", "mystery": "x"}),
    )
    expected = {"name", "customer.name", "customer.uscc", "customer.phone", "amount", "end_date",
                "fields.industry", "fields.budget", "fields.contact_phone", "fields.sponsor", "fields.po",
                "fields.mystery"}
    zh = fails(seeded.CreateProject, req, grpc.StatusCode.INVALID_ARGUMENT)
    en = fails(seeded.CreateProject, req, grpc.StatusCode.INVALID_ARGUMENT, locale="en")
    assert {v.field for v in zh.violations} == expected == {v.field for v in en.violations}
    assert zh.message == "输入校验失败" and en.message == "validation failed"
    zh_by, en_by = {v.field: v.zh for v in zh.violations}, {v.field: v.zh for v in en.violations}
    assert "统一社会信用代码" in zh_by["customer.uscc"] and "unified social credit code" in en_by["customer.uscc"]
    assert "行业" in zh_by["fields.industry"] and "required" in en_by["fields.industry"]
    assert "unknown field" in en_by["fields.mystery"]
    assert "decimal places" in en_by["amount"]

    f = fails(seeded.CreateProject, pb.CreateProjectRequest(request_id="bad-2", owner_id="sales1", form_key="nope",
                                                             name="n", customer=pb.Customer(name="c"), amount="1"),
              grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in f.violations] == ["form_key"]
    # Nothing was stored.
    assert seeded.ListProjects(pb.ListProjectsRequest(), timeout=10).items == []


def test_create_and_get(seeded: pb_grpc.RegistryServiceStub) -> None:
    p = create(
        seeded, request_id="c-1", amount="1200000.5", region="华东", business_line="云",
        customer=pb.Customer(name="星辰科技有限公司", uscc=VALID_USCC.lower(), contact="张三", phone="13900139000"),
        start_date="2026-01-01", end_date="2026-12-31",
        fields={"industry": "金融", "budget": 5000, "sponsor": "lead", "po": "PO-1234"},
    )
    assert re.fullmatch(r"[0-9a-f]{32}", p.id)
    assert re.fullmatch(r"BB-\d{4}-000001", p.code)
    assert p.status == S.PROJECT_STATUS_DRAFT and p.version == 1
    assert p.amount == "1200000.50" and p.customer.uscc == VALID_USCC
    assert (p.form_key, p.form_version, p.owner_id, p.department_id) == ("standard", 1, "sales1", "team")
    assert json_format.MessageToDict(p.fields) == {"industry": "金融", "budget": "5000.00", "sponsor": "lead",
                                                   "po": "PO-1234"}
    assert [h.event for h in p.history] == ["created"] and p.history[0].actor == "sales1"
    assert p.created_at.seconds > 0 and p.conflicts == []
    # Retry with the same request id: the same project, not a second one.
    again = create(seeded, request_id="c-1")
    assert again.id == p.id
    got = seeded.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project
    assert got == p
    fails(seeded.GetProject, pb.GetProjectRequest(project_id="nope"), grpc.StatusCode.NOT_FOUND)
    second = create(seeded)
    assert second.code == p.code[:-6] + "000002"


def test_bootstrap_admin_owner_and_write_roles(seeded: pb_grpc.RegistryServiceStub) -> None:
    f = fails(
        seeded.CreateProject,
        pb.CreateProjectRequest(request_id="w-1", owner_id="sales1", form_key="standard", name="n",
                                customer=pb.Customer(name="c"), amount="1",
                                fields=struct({"industry": "制造", "floor_price": "10"})),
        grpc.StatusCode.PERMISSION_DENIED,
    )
    assert [v.field for v in f.violations] == ["fields.floor_price"]
    by_finance = create(seeded, owner_id="fin", fields={"industry": "制造", "floor_price": "10"})
    assert json_format.MessageToDict(by_finance.fields)["floor_price"] == "10.00"
    # The bootstrap admin is no org user: no department, write roles do not apply.
    by_admin = create(seeded, owner_id="admin", owner_is_admin=True, fields={"industry": "制造", "floor_price": "9"})
    assert by_admin.owner_id == "admin" and by_admin.department_id == ""


def viewer(user_id: str, **kw: Any) -> pb.Viewer:
    return pb.Viewer(user_id=user_id, **kw)


def test_visibility_and_read_roles(seeded: pb_grpc.RegistryServiceStub) -> None:
    p = create(seeded, owner_id="fin", fields={"industry": "制造", "floor_price": "10"})  # dept hq
    q = create(seeded, owner_id="sales1", fields={"industry": "制造"})  # dept team

    def get(pid: str, v: pb.Viewer) -> pb.Project:
        return seeded.GetProject(pb.GetProjectRequest(project_id=pid, viewer=v), timeout=10).project

    def hidden(pid: str, v: pb.Viewer) -> None:
        fails(seeded.GetProject, pb.GetProjectRequest(project_id=pid, viewer=v), grpc.StatusCode.NOT_FOUND)

    assert "floor_price" in json_format.MessageToDict(get(p.id, viewer("fin")).fields)  # owner
    assert "floor_price" in json_format.MessageToDict(get(p.id, viewer("x", is_admin=True)).fields)
    ceo_view = get(p.id, viewer("ceo", roles=["exec"]))  # manages hq
    assert json_format.MessageToDict(ceo_view.fields) == {"industry": "制造"}
    assert [h.event for h in ceo_view.history] == ["created"]
    appr = get(p.id, viewer("other", roles=["finance"], approver_project_ids=[p.id]))
    assert "floor_price" in json_format.MessageToDict(appr.fields)
    hidden(p.id, viewer("sales2"))
    hidden(p.id, viewer("mgr_sh"))  # manages sh, not hq
    hidden(p.id, viewer(""))
    # Managers of the owner's department and every ancestor see q; siblings do not.
    for who in ("lead", "mgr_sh", "ceo", "sales1"):
        assert get(q.id, viewer(who)).id == q.id
    hidden(q.id, viewer("mgr_bj"))
    hidden(q.id, viewer("sales2"))
    # Unknown projects look exactly like hidden ones.
    hidden("0" * 32, viewer("x", is_admin=True))


def test_list_visibility_search_and_paging(seeded: pb_grpc.RegistryServiceStub) -> None:
    made = [create(seeded, owner_id="sales1" if i % 2 == 0 else "mgr_bj", name=f"Alpha-{i}",
                   customer=pb.Customer(name=f"客户{i}号")) for i in range(7)]
    extra = create(seeded, owner_id="sales2", name="Beta", customer=pb.Customer(name="OmegaCorp 有限公司"))

    def page(v: pb.Viewer | None = None, **kw: Any) -> pb.ListProjectsResponse:
        req = pb.ListProjectsRequest(**kw) if v is None else pb.ListProjectsRequest(viewer=v, **kw)
        return seeded.ListProjects(req, timeout=10)

    everything = page(limit=100)
    assert [p.id for p in everything.items] == [p.id for p in [extra, *reversed(made)]]  # newest first
    assert everything.next_cursor == "" and all(len(p.history) == 0 for p in everything.items)

    # Keyset paging with limit 3 walks every project exactly once.
    seen, cursor, pages = [], "", 0
    while True:
        resp = page(viewer("x", is_admin=True), limit=3, cursor=cursor)
        seen += [p.id for p in resp.items]
        pages += 1
        cursor = resp.next_cursor
        if not cursor:
            break
    assert seen == [p.id for p in everything.items] and pages == 3

    mine = page(viewer("sales1"))
    assert {p.id for p in mine.items} == {made[i].id for i in (0, 2, 4, 6)}
    lead = page(viewer("lead"))  # manages team: sales1 and sales2 projects
    assert {p.id for p in lead.items} == {made[i].id for i in (0, 2, 4, 6)} | {extra.id}
    assert {p.id for p in page(viewer("mgr_bj")).items} == {made[i].id for i in (1, 3, 5)}
    assert {p.id for p in page(viewer("ceo")).items} == {p.id for p in [*made, extra]}
    assert [p.id for p in page(viewer("nobody", approver_project_ids=[extra.id])).items] == [extra.id]
    assert page(viewer("nobody")).items == []

    # q: code, name or customer name, case-insensitive.
    assert [p.id for p in page(q="omegacorp").items] == [extra.id]
    assert [p.id for p in page(q="beta").items] == [extra.id]
    assert [p.id for p in page(q=made[3].code.lower()).items] == [made[3].id]
    assert {p.id for p in page(q="客户5").items} == {made[5].id}
    assert page(q="%").items == [] and page(q="_").items == []
    assert {p.id for p in page(viewer("sales1"), q="alpha").items} == {made[i].id for i in (0, 2, 4, 6)}

    # Status filter; default and clamped limits.
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s1", project_id=made[0].id, actor_id="sales1"),
                         timeout=10)
    pending = page(status=S.PROJECT_STATUS_PENDING_APPROVAL)
    assert [p.id for p in pending.items] == [made[0].id]
    assert len(page(status=S.PROJECT_STATUS_DRAFT).items) == 7
    for _ in range(20):
        create(seeded, owner_id="sales2")
    assert len(page().items) == 20 and page().next_cursor
    big = page(limit=1000)
    assert len(big.items) == 28 and big.next_cursor == ""
    fails(seeded.ListProjects, pb.ListProjectsRequest(cursor="!!garbage!!"), grpc.StatusCode.INVALID_ARGUMENT)


def test_submit_is_idempotent_and_owner_only(seeded: pb_grpc.RegistryServiceStub) -> None:
    p = create(seeded)
    req = pb.SubmitProjectRequest(request_id="sub-1", project_id=p.id, actor_id="sales1")
    first = seeded.SubmitProject(req, timeout=10).project
    second = seeded.SubmitProject(req, timeout=10).project
    assert first == second
    assert first.status == S.PROJECT_STATUS_PENDING_APPROVAL and first.version == 2
    got = seeded.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project
    assert [h.event for h in got.history] == ["created", "submitted"] and got.history == first.history
    assert json_format.MessageToDict(got.history[1].data) == {"from": "draft", "to": "pending_approval",
                                                              "conflicts": 0}
    # A new request id on a pending project is an illegal transition.
    f = fails(seeded.SubmitProject, pb.SubmitProjectRequest(request_id="sub-2", project_id=p.id, actor_id="sales1"),
              grpc.StatusCode.FAILED_PRECONDITION, locale="en")
    assert f.reason == "illegal_transition" and "illegal transition" in f.message

    other = create(seeded)
    fails(seeded.SubmitProject, pb.SubmitProjectRequest(request_id="sub-3", project_id=other.id, actor_id="sales2"),
          grpc.StatusCode.PERMISSION_DENIED)
    by_admin = seeded.SubmitProject(pb.SubmitProjectRequest(request_id="sub-4", project_id=other.id,
                                                            actor_id="admin", actor_is_admin=True), timeout=10)
    assert by_admin.project.status == S.PROJECT_STATUS_PENDING_APPROVAL
    assert by_admin.project.history[-1].actor == "admin"
    fails(seeded.SubmitProject, pb.SubmitProjectRequest(request_id="sub-5", project_id="missing", actor_id="x"),
          grpc.StatusCode.NOT_FOUND)


def set_status(
    stub: pb_grpc.RegistryServiceStub, rid: str, pid: str, status: pb.ProjectStatus, **kw: Any
) -> pb.Project:
    req = pb.SetProjectStatusRequest(request_id=rid, project_id=pid, status=status, actor_id="wf", **kw)
    return stub.SetProjectStatus(req, timeout=10).project


def test_status_transitions(seeded: pb_grpc.RegistryServiceStub) -> None:
    p = create(seeded)
    f = fails(seeded.SetProjectStatus, pb.SetProjectStatusRequest(request_id="x1", project_id=p.id,
                                                                   status=S.PROJECT_STATUS_ACTIVE),
              grpc.StatusCode.FAILED_PRECONDITION, locale="en")
    assert f.reason == "illegal_transition" and "draft -> active" in f.message
    fails(seeded.SetProjectStatus, pb.SetProjectStatusRequest(request_id="x2", project_id=p.id),
          grpc.StatusCode.INVALID_ARGUMENT)
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s", project_id=p.id, actor_id="sales1"), timeout=10)

    returned = set_status(seeded, "r1", p.id, S.PROJECT_STATUS_RETURNED, event="returned", comment="补充材料")
    assert returned.status == S.PROJECT_STATUS_RETURNED and returned.version == 3
    last = returned.history[-1]
    assert (last.event, last.actor) == ("returned", "wf")
    assert json_format.MessageToDict(last.data) == {"from": "pending_approval", "to": "returned", "comment": "补充材料"}
    # Resubmit after return, then approve and close.
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s2", project_id=p.id, actor_id="sales1"), timeout=10)
    active = set_status(seeded, "a1", p.id, S.PROJECT_STATUS_ACTIVE, event="approved")
    # Same status again with a new request id: a harmless no-op.
    again = set_status(seeded, "a2", p.id, S.PROJECT_STATUS_ACTIVE, event="approved")
    assert again.version == active.version == 5 and len(again.history) == len(active.history)
    fails(seeded.SetProjectStatus, pb.SetProjectStatusRequest(request_id="a3", project_id=p.id,
                                                               status=S.PROJECT_STATUS_CANCELLED),
          grpc.StatusCode.FAILED_PRECONDITION)
    closed = set_status(seeded, "cl", p.id, S.PROJECT_STATUS_CLOSED, event="closed")
    assert closed.status == S.PROJECT_STATUS_CLOSED
    assert [h.event for h in closed.history] == ["created", "submitted", "returned", "submitted", "approved", "closed"]
    fails(seeded.SetProjectStatus, pb.SetProjectStatusRequest(request_id="cl2", project_id=p.id,
                                                               status=S.PROJECT_STATUS_ACTIVE),
          grpc.StatusCode.FAILED_PRECONDITION)
    # A draft can be withdrawn; pending_approval is only reachable through submit.
    d = create(seeded)
    fails(seeded.SetProjectStatus, pb.SetProjectStatusRequest(request_id="pa", project_id=d.id,
                                                               status=S.PROJECT_STATUS_PENDING_APPROVAL),
          grpc.StatusCode.FAILED_PRECONDITION)
    assert set_status(seeded, "cx", d.id, S.PROJECT_STATUS_CANCELLED, event="withdrawn").status == \
        S.PROJECT_STATUS_CANCELLED
    fails(seeded.SetProjectStatus, pb.SetProjectStatusRequest(request_id="nf", project_id="missing",
                                                               status=S.PROJECT_STATUS_ACTIVE),
          grpc.StatusCode.NOT_FOUND)


def test_conflicts_on_create_and_submit(seeded: pb_grpc.RegistryServiceStub) -> None:
    live = create(seeded, customer=pb.Customer(name="星辰科技有限公司", uscc=VALID_USCC))
    # Drafts are not live: nothing to collide with yet.
    assert create(seeded, customer=pb.Customer(name="星辰科技", uscc=VALID_USCC)).conflicts == []
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s-live", project_id=live.id, actor_id="sales1"),
                         timeout=10)

    by_uscc = create(seeded, customer=pb.Customer(name="完全不同的名字", uscc=VALID_USCC))
    assert [(c.project_id, c.reason) for c in by_uscc.conflicts] == [(live.id, "客户统一社会信用代码相同")]
    by_name = create(seeded, customer=pb.Customer(name="星辰科技（集团）股份有限公司", uscc=OTHER_USCC))
    assert [(c.project_id, c.reason) for c in by_name.conflicts] == [(live.id, "客户名称相同")]
    both = create(seeded, customer=pb.Customer(name=" 星辰 科技 ", uscc=VALID_USCC))
    assert [c.reason for c in both.conflicts] == ["客户统一社会信用代码相同；客户名称相同"]
    clean = create(seeded, customer=pb.Customer(name="星河科技有限公司"))
    assert clean.conflicts == []

    # On submit the conflicts are computed again: by now by_uscc is live too.
    sub = seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s-both", project_id=both.id, actor_id="sales1"),
                               timeout=10).project
    assert sub.conflicts == both.conflicts
    seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s-uscc", project_id=by_uscc.id, actor_id="sales1"),
                         timeout=10)
    resub = seeded.SubmitProject(pb.SubmitProjectRequest(request_id="s-name", project_id=by_name.id,
                                                         actor_id="sales1"), timeout=10).project
    assert {c.project_id for c in resub.conflicts} == {live.id, both.id}
    # Once the first registration is rejected it no longer collides.
    set_status(seeded, "rej", live.id, S.PROJECT_STATUS_REJECTED, event="rejected")
    after = create(seeded, customer=pb.Customer(name="星辰科技", uscc=OTHER_USCC))
    assert {c.project_id for c in after.conflicts} == {both.id, by_name.id}
    stored = seeded.GetProject(pb.GetProjectRequest(project_id=after.id), timeout=10).project
    assert stored.conflicts == after.conflicts


def test_concurrent_creates_get_unique_codes(seeded: pb_grpc.RegistryServiceStub) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(t: int) -> None:
        try:
            for i in range(5):
                p = create(seeded, request_id=f"conc-{t}-{i}")
                with lock:
                    results.append(p.code)
        except BaseException as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    assert len(results) == 40 and len(set(results)) == 40
    numbers = sorted(int(c.rsplit("-", 1)[1]) for c in results)
    assert numbers == list(range(1, 41))


def test_concurrent_form_puts_make_one_version_per_distinct_definition(stub: pb_grpc.RegistryServiceStub) -> None:
    errors: list[BaseException] = []

    def put(i: int) -> None:
        req = pb.PutFormRequest()
        req.CopyFrom(FORM)
        req.request_id = f"cf-{i}"
        req.title = f"标题{i % 3}"
        try:
            stub.PutForm(req, timeout=20)
        except BaseException as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=put, args=(i,)) for i in range(9)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert errors == []
    latest = stub.GetForm(pb.GetFormRequest(key="standard"), timeout=10).form
    # Every version exists exactly once, numbered without gaps.
    versions = [stub.GetForm(pb.GetFormRequest(key="standard", version=v), timeout=10).form.version
                for v in range(1, latest.version + 1)]
    assert versions == list(range(1, latest.version + 1)) and 3 <= latest.version <= 9


def test_attachments_linked_to_an_approval_follow_the_project(seeded: pb_grpc.RegistryServiceStub) -> None:
    """A comment's attachment becomes readable by whoever sees the project, never by anyone else."""
    p = create(seeded, owner_id="sales1")

    def upload(by: str, data: bytes) -> str:
        req = pb.UploadAttachmentRequest(request_id=f"up-{by}", filename="报价.pdf", content_type="application/pdf",
                                         data=data, uploader_id=by)
        return seeded.UploadAttachment(req, timeout=10).attachment.id

    def get(aid: str, v: pb.Viewer) -> Any:
        return seeded.GetAttachment(pb.GetAttachmentRequest(attachment_id=aid, viewer=v), timeout=10)

    approver = viewer("fin", roles=["finance"], approver_project_ids=[p.id])
    owners, foreign = upload("sales1", b"%PDF-1.4 owner"), upload("mgr_bj", b"%PDF-1.4 foreign")
    fails(lambda r, **kw: get(owners, approver), None, grpc.StatusCode.NOT_FOUND)

    def link(ids: list[str], v: pb.Viewer, project_id: str = p.id) -> Any:
        return seeded.LinkAttachments(
            pb.LinkAttachmentsRequest(project_id=project_id, attachment_ids=ids, viewer=v, kind="comment"), timeout=10
        )

    # the approver may point at the owner's upload; an external link ("") keeps its position
    assert list(link(["", owners], approver).attachment_ids) == [owners]
    assert list(link([owners], approver).attachment_ids) == [owners]  # again: nothing new
    for who in (approver, viewer("lead", roles=["manager"]), viewer("sales1")):
        assert get(owners, who).attachment.id == owners
    for who in (viewer("sales2", roles=["sales"]), viewer("mgr_bj", roles=["manager"])):
        fails(lambda r, w=who, **kw: get(owners, w), None, grpc.StatusCode.NOT_FOUND)

    # a file neither readable by the commenter nor the owner's: refused, nothing linked
    failure = fails(lambda r, **kw: link([owners, foreign], approver), None, grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in failure.violations] == ["attachments[1].url"]
    fails(lambda r, **kw: get(foreign, approver), None, grpc.StatusCode.NOT_FOUND)
    # nobody links to a project they cannot see
    fails(lambda r, **kw: link([foreign], viewer("mgr_bj", roles=["manager"])), None, grpc.StatusCode.NOT_FOUND)
    fails(lambda r, **kw: get(foreign, viewer("sales1")), None, grpc.StatusCode.NOT_FOUND)
