"""Registry over real gRPC, issue 5: projects registered by an integration are unique per
(external_source, external_id) — a repeat, even a concurrent one, answers the existing project —
and can be read as "ext:<source>:<id>"; users who left (org sync) lose their tokens, are not
found by role searches and are walked past in manager chains."""

from __future__ import annotations

import threading
from typing import Any

import grpc
import pytest
import sqlalchemy as sa

from baobei.core.db import make_engine
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.mapping import USER_HAS_LEFT
from tests.service import test_registry_service as base
from tests.service.test_registry_service import ORG, fails, rows, struct

db_url = base.db_url
stub = base.stub
seeded = base.seeded
Stub = pb_grpc.RegistryServiceStub


def crm(stub: Stub, external_id: str, *, request_id: str, name: str = "CRM 商机", source: str = "crm",
        customer: str = "") -> pb.CreateProjectResponse:
    req = pb.CreateProjectRequest(
        request_id=request_id, owner_id="sales1", form_key="standard", name=name,
        customer=pb.Customer(name=customer or f"{external_id} 客户科技有限公司"), amount="5000",
        fields=struct({"industry": "制造"}), external_source=source, external_id=external_id,
    )
    return stub.CreateProject(req, timeout=10)


def test_external_key_is_idempotent(seeded: Stub, db_url: str) -> None:
    first = crm(seeded, "OPP-1", request_id="c-1")
    assert not first.existing
    p = first.project
    assert (p.external_source, p.external_id, p.status) == ("crm", "OPP-1", pb.PROJECT_STATUS_DRAFT)
    # Another request, another payload: the existing project, unchanged.
    again = crm(seeded, "OPP-1", request_id="c-2", name="改了名字")
    assert again.existing and again.project.id == p.id and again.project.name == p.name
    assert again.project.version == p.version and again.project.code == p.code
    # A retried request answers its first response.
    assert crm(seeded, "OPP-1", request_id="c-1") == first
    # Same external id from another source is another project.
    other = crm(seeded, "OPP-1", request_id="c-3", source="erp", customer="另一家客户科技有限公司")
    assert not other.existing and other.project.id != p.id
    assert rows(db_url, "SELECT count(*) FROM project WHERE external_id = 'OPP-1'") == [(2,)]
    # Without a key nothing is unique: NULL keys never collide.
    for n in range(2):
        req = pb.CreateProjectRequest(request_id=f"plain-{n}", owner_id="sales1", form_key="standard", name="普通",
                                      customer=pb.Customer(name=f"普通客户{n}科技有限公司"), amount="1",
                                      fields=struct({"industry": "制造"}))
        resp = seeded.CreateProject(req, timeout=10)
        assert not resp.existing and not resp.project.external_source


def test_get_project_by_external_reference(seeded: Stub) -> None:
    p = crm(seeded, "OPP:with:colons", request_id="ref-1").project
    got = seeded.GetProject(pb.GetProjectRequest(project_id="ext:crm:OPP:with:colons"), timeout=10).project
    assert got.id == p.id and got.external_id == "OPP:with:colons" and got.history
    assert seeded.GetProject(pb.GetProjectRequest(project_id=p.id), timeout=10).project.external_source == "crm"
    for ref in ("ext:crm:OPP-404", "ext:erp:OPP:with:colons", "ext:crm:", "ext::x"):
        fails(seeded.GetProject, pb.GetProjectRequest(project_id=ref), grpc.StatusCode.NOT_FOUND)
    # The viewer filter applies as for ids: another salesperson cannot see it.
    viewer = pb.Viewer(user_id="sales2", roles=["sales"])
    fails(seeded.GetProject, pb.GetProjectRequest(project_id="ext:crm:OPP:with:colons", viewer=viewer),
          grpc.StatusCode.NOT_FOUND)
    listed = seeded.ListProjects(pb.ListProjectsRequest(owner_id="sales1"), timeout=10).items
    assert any(i.id == p.id and i.external_id == "OPP:with:colons" for i in listed)


def test_external_key_validation(seeded: Stub) -> None:
    def bad(**kw: Any) -> set[str]:
        req = pb.CreateProjectRequest(request_id="v", owner_id="sales1", form_key="standard", name="x",
                                      customer=pb.Customer(name="客户科技有限公司"), amount="1",
                                      fields=struct({"industry": "制造"}), **kw)
        return {v.field for v in fails(seeded.CreateProject, req, grpc.StatusCode.INVALID_ARGUMENT).violations}

    assert bad(external_source="crm") == {"external_id"}
    assert bad(external_id="OPP-9") == {"external_source"}
    assert bad(external_source="a:b", external_id="1") == {"external_source"}
    assert bad(external_source="crm", external_id="x" * 201) == {"external_id"}


def test_concurrent_creates_with_one_key_make_one_project(seeded: Stub, db_url: str) -> None:
    for round_no in range(3):
        key = f"OPP-RACE-{round_no}"
        results: list[Any] = []
        barrier = threading.Barrier(6)

        def create(n: int, key: str = key, results: list[Any] = results,
                   barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                results.append(crm(seeded, key, request_id=f"race-{key}-{n}"))
            except grpc.RpcError as err:
                results.append(err)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert all(isinstance(r, pb.CreateProjectResponse) for r in results), results
        assert len({r.project.id for r in results}) == 1
        assert sorted(r.existing for r in results) == [False] + [True] * 5
        assert rows(db_url, f"SELECT count(*) FROM project WHERE external_id = '{key}'") == [(1,)]


# ---------------------------------------------------------------- users who left


def mark_left(stub: Stub, db_url: str, *user_ids: str) -> None:
    """Org sync marks users as left: through UpsertOrg when the generated code has User.left,
    else straight in the database (the registry's own rule is what is tested)."""
    users = [u for u in ORG.users if u.id in user_ids]
    if USER_HAS_LEFT:
        departed = [pb.User(**{**{f.name: v for f, v in u.ListFields()}, "left": True}) for u in users]
        stub.UpsertOrg(pb.UpsertOrgRequest(request_id=f"left-{'-'.join(user_ids)}", users=departed), timeout=10)
        return
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE org_user SET \"left\" = :t WHERE id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)), {"t": True, "ids": list(user_ids)})
            conn.execute(sa.text("DELETE FROM access_token WHERE user_id IN :ids")
                         .bindparams(sa.bindparam("ids", expanding=True)), {"ids": list(user_ids)})
    finally:
        engine.dispose()


def test_users_who_left_lose_tokens_roles_and_manager_links(seeded: Stub, db_url: str) -> None:
    token = seeded.IssueToken(pb.IssueTokenRequest(request_id="t1", user_id="lead"), timeout=10).token
    other = seeded.IssueToken(pb.IssueTokenRequest(request_id="t2", user_id="mgr_sh"), timeout=10).token
    assert seeded.Authenticate(pb.AuthenticateRequest(token=token), timeout=10).user.id == "lead"
    chain = seeded.GetManagerChain(pb.GetManagerChainRequest(user_id="sales1"), timeout=10).links
    assert [(link.department_id, link.manager_id) for link in chain] == [("team", "lead"), ("sh", "mgr_sh"),
                                                                         ("hq", "ceo")]
    mark_left(seeded, db_url, "lead")

    fails(seeded.Authenticate, pb.AuthenticateRequest(token=token), grpc.StatusCode.UNAUTHENTICATED)
    assert seeded.Authenticate(pb.AuthenticateRequest(token=other), timeout=10).user.id == "mgr_sh"
    fails(seeded.IssueToken, pb.IssueTokenRequest(request_id="t3", user_id="lead"), grpc.StatusCode.FAILED_PRECONDITION)
    # Role searches (routing, recipients) leave them out; the user stays readable for history.
    managers = seeded.ListUsers(pb.ListUsersRequest(role="manager"), timeout=10).users
    assert sorted(u.id for u in managers) == ["mgr_bj", "mgr_sh"]
    everyone = seeded.ListUsers(pb.ListUsersRequest(department_id="team"), timeout=10).users
    assert "lead" in {u.id for u in everyone}
    lead = seeded.GetUser(pb.GetUserRequest(user_id="lead"), timeout=10).user
    assert lead.id == "lead"
    if USER_HAS_LEFT:
        assert getattr(lead, "left") is True  # noqa: B009
    # The manager chain walks up past them.
    chain = seeded.GetManagerChain(pb.GetManagerChainRequest(user_id="sales1"), timeout=10).links
    assert [(link.department_id, link.manager_id) for link in chain] == [("sh", "mgr_sh"), ("hq", "ceo")]


@pytest.mark.skipif(not USER_HAS_LEFT, reason="registry proto has no User.left yet")
def test_upsert_org_with_left_is_idempotent_and_reversible(seeded: Stub) -> None:
    left = pb.User(id="sales2", name="销售二", department_id="team", roles=["sales"])
    setattr(left, "left", True)  # noqa: B010
    req = pb.UpsertOrgRequest(request_id="org-left", users=[left])
    assert seeded.UpsertOrg(req, timeout=10) == seeded.UpsertOrg(req, timeout=10)
    req2 = pb.UpsertOrgRequest(request_id="org-left-again", users=[left])
    seeded.UpsertOrg(req2, timeout=10)
    user = seeded.GetUser(pb.GetUserRequest(user_id="sales2"), timeout=10).user
    assert getattr(user, "left") is True  # noqa: B009 - absent from older generated code
    back = pb.User(id="sales2", name="销售二", department_id="team", roles=["sales"])
    seeded.UpsertOrg(pb.UpsertOrgRequest(request_id="org-rehire", users=[back]), timeout=10)
    assert "sales2" in {u.id for u in seeded.ListUsers(pb.ListUsersRequest(role="sales"), timeout=10).users}
