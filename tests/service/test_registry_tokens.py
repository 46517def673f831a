"""Access tokens and org-upsert limits in the registry over real gRPC: scopes, expiry judged at a
passed-in instant, last use written at most once a minute, listing without secrets, revocation one
by one; an integrator's org upsert never touches admins or itself and never grants what it lacks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from tests.conftest import StartService
from tests.service.test_registry_service import fails, rows

T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
ALL_SCOPES = ["crm:write", "org:sync", "reports:read"]


def at(dt: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt)
    return t


@pytest.fixture()
def db_url(make_db_url: Callable[[str], str]) -> str:
    return make_db_url("registry")


@pytest.fixture()
def stub(db_url: str, start_service: StartService) -> pb_grpc.RegistryServiceStub:
    s = pb_grpc.RegistryServiceStub(start_service("registry", db_url=db_url).channel)
    s.UpsertOrg(ORG, timeout=10)
    return s


ORG = pb.UpsertOrgRequest(
    request_id="org-base",
    departments=[
        pb.Department(id="hq", name="总部", manager_id="root"),
        pb.Department(id="sales", name="销售部", parent_id="hq", manager_id="boss"),
    ],
    users=[
        pb.User(id="root", name="管理员", department_id="hq", roles=["admin"]),
        pb.User(id="boss", name="经理", department_id="sales", roles=["manager"]),
        pb.User(id="rep", name="销售", department_id="sales", roles=["sales"]),
        pb.User(id="sync", name="同步", department_id="hq", roles=["integrator", "sales"]),
    ],
)


def issue(stub: pb_grpc.RegistryServiceStub, user_id: str = "rep", **kw: Any) -> pb.IssueTokenResponse:
    return stub.IssueToken(pb.IssueTokenRequest(request_id="x", user_id=user_id, now=at(T0), **kw), timeout=10)


def auth(stub: pb_grpc.RegistryServiceStub, token: str, when: datetime) -> pb.AuthenticateResponse:
    return stub.Authenticate(pb.AuthenticateRequest(token=token, now=at(when)), timeout=10)


def test_defaults_every_scope_and_90_days(stub: pb_grpc.RegistryServiceStub, db_url: str) -> None:
    resp = issue(stub)
    info = resp.access_token
    assert info.id and info.user_id == "rep" and list(info.scopes) == ALL_SCOPES
    assert info.created_at.ToDatetime(tzinfo=UTC) == T0
    assert info.expires_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=90)
    assert not info.HasField("last_used_at")
    # Only the hash is stored.
    assert rows(db_url, "SELECT token_hash FROM access_token") == [(hashlib.sha256(resp.token.encode()).hexdigest(),)]


def test_scopes_name_and_expiry_are_validated(stub: pb_grpc.RegistryServiceStub) -> None:
    resp = issue(stub, "sync", name="CRM 对接", scopes=["crm:write", "crm:write"], scopes_given=True,
                 expires_in_days=7)
    assert list(resp.access_token.scopes) == ["crm:write"] and resp.access_token.name == "CRM 对接"
    assert resp.access_token.expires_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=7)
    none = issue(stub, "sync", scopes=[], scopes_given=True)
    assert list(none.access_token.scopes) == []
    failure = fails(stub.IssueToken, pb.IssueTokenRequest(
        request_id="y", user_id="sync", scopes=["crm:write", "org:admin"], scopes_given=True, expires_in_days=99999,
        name="n" * 101), grpc.StatusCode.INVALID_ARGUMENT)
    assert {v.field for v in failure.violations} == {"scopes[1]", "expires_in_days", "name"}


def test_expiry_is_judged_at_the_given_instant(stub: pb_grpc.RegistryServiceStub) -> None:
    token = issue(stub, expires_in_days=1).token
    user = auth(stub, token, T0 + timedelta(hours=23))
    assert user.user.id == "rep" and user.access_token.expires_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=1)
    failure = fails(stub.Authenticate, pb.AuthenticateRequest(token=token, now=at(T0 + timedelta(days=1))),
                    grpc.StatusCode.UNAUTHENTICATED)
    assert failure.reason == "token_expired"


def test_last_used_at_is_written_at_most_once_a_minute(stub: pb_grpc.RegistryServiceStub, db_url: str) -> None:
    resp = issue(stub)
    t1 = T0 + timedelta(hours=1)
    assert auth(stub, resp.token, t1).access_token.last_used_at.ToDatetime(tzinfo=UTC) == t1
    auth(stub, resp.token, t1 + timedelta(seconds=30))
    listed = stub.ListTokens(pb.ListTokensRequest(user_id="rep"), timeout=10).tokens
    assert listed[0].last_used_at.ToDatetime(tzinfo=UTC) == t1
    t2 = t1 + timedelta(seconds=61)
    auth(stub, resp.token, t2)
    listed = stub.ListTokens(pb.ListTokensRequest(user_id="rep"), timeout=10).tokens
    assert listed[0].last_used_at.ToDatetime(tzinfo=UTC) == t2


def test_list_and_revoke_one_by_one(stub: pb_grpc.RegistryServiceStub) -> None:
    first = issue(stub, name="laptop")
    second = stub.IssueToken(pb.IssueTokenRequest(request_id="z", user_id="rep", name="ci",
                                                  now=at(T0 + timedelta(minutes=1))), timeout=10)
    other = issue(stub, "boss")
    listed = stub.ListTokens(pb.ListTokensRequest(user_id="rep"), timeout=10).tokens
    assert [t.id for t in listed] == [second.access_token.id, first.access_token.id]
    assert all(first.token not in str(t) and second.token not in str(t) for t in listed)
    # Someone else's token id is not found (and stays valid).
    fails(stub.RevokeToken, pb.RevokeTokenRequest(user_id="rep", token_id=other.access_token.id),
          grpc.StatusCode.NOT_FOUND)
    auth(stub, other.token, T0)
    stub.RevokeToken(pb.RevokeTokenRequest(user_id="rep", token_id=first.access_token.id), timeout=10)
    stub.RevokeToken(pb.RevokeTokenRequest(user_id="rep", token_id=first.access_token.id), timeout=10)  # repeat
    failure = fails(stub.Authenticate, pb.AuthenticateRequest(token=first.token, now=at(T0)),
                    grpc.StatusCode.UNAUTHENTICATED)
    assert failure.reason == "token_revoked"
    assert auth(stub, second.token, T0 + timedelta(minutes=2)).user.id == "rep"
    assert [t.id for t in stub.ListTokens(pb.ListTokensRequest(user_id="rep"), timeout=10).tokens] == [
        second.access_token.id]


def test_departure_revokes_every_token_of_the_user(stub: pb_grpc.RegistryServiceStub) -> None:
    token = issue(stub).token
    stub.UpsertOrg(pb.UpsertOrgRequest(request_id="leave", users=[
        pb.User(id="rep", name="销售", department_id="sales", roles=["sales"], left=True)]), timeout=10)
    fails(stub.Authenticate, pb.AuthenticateRequest(token=token, now=at(T0)), grpc.StatusCode.UNAUTHENTICATED)
    assert list(stub.ListTokens(pb.ListTokensRequest(user_id="rep"), timeout=10).tokens) == []


# ---------- org upsert by an integrator ----------

INTEGRATOR = pb.OrgActor(user_id="sync", roles=["integrator", "sales"])


def users_by_id(stub: pb_grpc.RegistryServiceStub) -> dict[str, pb.User]:
    return {u.id: u for u in stub.ListUsers(pb.ListUsersRequest(), timeout=10).users}


def test_integrator_upsert_never_touches_admins_itself_or_grants(stub: pb_grpc.RegistryServiceStub) -> None:
    resp = stub.UpsertOrg(pb.UpsertOrgRequest(
        request_id="sync-1", actor=INTEGRATOR,
        departments=[
            pb.Department(id="sales", name="销售部（新）", parent_id="hq", manager_id="sync"),
            pb.Department(id="new", name="新部门", parent_id="hq", manager_id="sync"),
        ],
        users=[
            pb.User(id="root", name="管理员", department_id="hq", roles=["admin"], left=True),  # admin departs
            pb.User(id="sync", name="同步", department_id="hq", roles=["integrator", "sales", "manager"]),  # self
            pb.User(id="rep", name="销售", department_id="sales", roles=["sales", "admin"]),  # grant admin
            pb.User(id="boss", name="经理", department_id="sales", roles=["manager", "finance"]),  # not held
            pb.User(id="fresh", name="新人", department_id="new", roles=["integrator"]),  # grant integrator
            pb.User(id="ok", name="可以", department_id="new", roles=["sales"]),  # held: allowed
            pb.User(id="rep2", name="新销售", department_id="sales"),
        ],
    ), timeout=10)
    refused = {r.field: r.code for r in resp.refused}
    assert refused == {
        "users[0]": "admin_untouchable", "users[1]": "own_record", "users[2]": "role_not_grantable",
        "users[3]": "role_not_held", "users[4]": "role_not_grantable",
        "departments[0].manager_id": "self_manager", "departments[1].manager_id": "self_manager",
    }
    assert {r.user_id for r in resp.refused if r.user_id} == {"root", "sync", "rep", "boss", "fresh"}
    assert resp.departments == 2 and resp.users == 2
    users = users_by_id(stub)
    assert not users["root"].left and list(users["root"].roles) == ["admin"]
    assert list(users["sync"].roles) == ["integrator", "sales"]
    assert list(users["rep"].roles) == ["sales"] and list(users["boss"].roles) == ["manager"]
    assert "fresh" not in users and list(users["ok"].roles) == ["sales"] and "rep2" in users
    # The department's other changes apply; its manager does not become the caller.
    chain = stub.GetManagerChain(pb.GetManagerChainRequest(user_id="rep"), timeout=10).links
    assert [(link.department_id, link.manager_id) for link in chain] == [("sales", "boss"), ("hq", "root")]
    assert [link.manager_id for link in
            stub.GetManagerChain(pb.GetManagerChainRequest(user_id="ok"), timeout=10).links] == ["root"]


def test_integrator_may_mark_a_non_admin_as_left_and_admins_are_unlimited(stub: pb_grpc.RegistryServiceStub) -> None:
    resp = stub.UpsertOrg(pb.UpsertOrgRequest(request_id="sync-2", actor=INTEGRATOR, users=[
        pb.User(id="rep", name="销售", department_id="sales", roles=["sales"], left=True)]), timeout=10)
    assert list(resp.refused) == [] and users_by_id(stub)["rep"].left
    admin = stub.UpsertOrg(pb.UpsertOrgRequest(
        request_id="adm-1", actor=pb.OrgActor(user_id="root", roles=["admin"], is_admin=True),
        departments=[pb.Department(id="sales", name="销售部", parent_id="hq", manager_id="sync")],
        users=[pb.User(id="sync", name="同步", department_id="hq", roles=["integrator", "manager"])]), timeout=10)
    assert list(admin.refused) == []
    assert list(users_by_id(stub)["sync"].roles) == ["integrator", "manager"]
