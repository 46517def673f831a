"""The directory over real gRPC (DirectoryService in the registry process): search by Chinese,
full pinyin, initials and mixes, ranked exact > prefix > contains; departed users hidden except
for admins who ask; contact fields per viewer; department members (recursive); the tree with
counts; keys kept fresh when users are written and filled lazily for rows written without them;
a few thousand users searched without computing pinyin; the admin's token list and own tokens."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import sqlalchemy as sa
from google.protobuf import timestamp_pb2

from baobei.core.db import make_engine
from baobei.registry.v1 import directory_service_pb2 as dpb
from baobei.registry.v1 import directory_service_pb2_grpc as dpb_grpc
from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.registry.v1 import registry_service_pb2_grpc as pb_grpc
from services.registry.directory import keys as name_keys
from tests.conftest import StartService
from tests.service.test_registry_service import fails, rows

T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def at(dt: datetime) -> timestamp_pb2.Timestamp:
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(dt)
    return t


@dataclass
class Registry:
    db_url: str
    registry: pb_grpc.RegistryServiceStub
    directory: dpb_grpc.DirectoryServiceStub

    def search(self, viewer: str = "admin", admin: bool | None = None, **kw: Any) -> list[str]:
        return [u.id for u in self.search_users(viewer, admin, **kw).users]

    def search_users(self, viewer: str = "admin", admin: bool | None = None, **kw: Any) -> dpb.SearchUsersResponse:
        v = pb.Viewer(user_id=viewer, is_admin=viewer == "admin" if admin is None else admin)
        return self.directory.SearchUsers(dpb.SearchUsersRequest(viewer=v, **kw), timeout=10)


ORG = pb.UpsertOrgRequest(
    request_id="dir-org",
    departments=[
        pb.Department(id="hq", name="总部", manager_id="ceo"),
        pb.Department(id="sales", name="销售部", parent_id="hq", manager_id="boss"),
        pb.Department(id="east", name="华东组", parent_id="sales"),
        pb.Department(id="ops", name="运营部", parent_id="hq", manager_id="opsmgr"),
    ],
    users=[
        pb.User(id="ceo", name="王总", department_id="hq", roles=["admin"], email="ceo@corp.cn"),
        pb.User(id="boss", name="李经理", department_id="sales", roles=["manager"], email="boss@corp.cn"),
        pb.User(id="zs", name="张三", department_id="sales", roles=["sales"], email="zhang3@corp.cn",
                mobile="13800138000", region="华东"),
        pb.User(id="zeng", name="曾三", department_id="east", roles=["sales"], email="zeng@corp.cn"),
        pb.User(id="zsf", name="张三丰", department_id="ops", roles=["ops"], email="zsf@corp.cn"),
        pb.User(id="shan", name="单雄信", department_id="east", roles=["sales", "presales"]),
        pb.User(id="tom", name="Tom李", department_id="ops", roles=["integrator"]),
        pb.User(id="opsmgr", name="赵主管", department_id="ops", roles=["manager"]),
        pb.User(id="gone", name="张三四", department_id="sales", roles=["sales"], left=True),
        pb.User(id="loner", name="孙八", roles=["sales"]),
    ],
)


@pytest.fixture()
def reg(start_service: StartService) -> Registry:
    svc = start_service("registry")
    r = Registry(svc.db_url, pb_grpc.RegistryServiceStub(svc.channel), dpb_grpc.DirectoryServiceStub(svc.channel))
    r.registry.UpsertOrg(ORG, timeout=10)
    return r


def test_search_by_chinese_pinyin_initials_and_mixed_ranked(reg: Registry) -> None:
    # exact (the name) before prefix (张三丰); the departed 张三四 is hidden
    assert reg.search("zs", q="张三") == ["zs", "zsf"]
    assert reg.search("zs", q="张") == ["zs", "zsf"]
    assert reg.search("zs", q="zhangsan") == ["zs", "zsf"]
    assert reg.search("zs", q="ZhangSan") == ["zs", "zsf"]
    assert reg.search("zs", q="zhang") == ["zs", "zsf"]
    # initials: exact zs (曾三 read zeng or ceng, 张三; by pinyin) before the prefix zsf
    assert reg.search("zs", q="zs") == ["zeng", "zs", "zsf"]
    assert reg.search("zs", q="zengsan") == ["zeng"] and reg.search("zs", q="cengsan") == ["zeng"]
    assert reg.search("zs", q="shanxiongxin") == ["shan"] and reg.search("zs", q="dxx") == ["shan"]
    # mixed Chinese and letters
    assert reg.search("zs", q="张s") == ["zs", "zsf"]
    assert reg.search("zs", q="zhang三") == ["zs", "zsf"]
    assert reg.search("zs", q="zhang san") == ["zs", "zsf"]
    # contains ranks last: "san" is inside zhangsan, zengsan, zhangsanfeng
    assert reg.search("zs", q="san") == ["zeng", "zs", "zsf"]
    assert reg.search("zs", q="tomli") == ["tom"] and reg.search("zs", q="李") == ["boss", "tom"]
    assert reg.search("zs", q="%") == [] and reg.search("zs", q="_") == []


def test_admins_also_find_by_id_email_and_mobile_others_do_not(reg: Registry) -> None:
    assert reg.search(q="zhang3@corp.cn") == ["zs"]
    assert reg.search(q="13800138000") == ["zs"]
    assert reg.search(q="opsmgr") == ["opsmgr"]
    assert reg.search("zeng", q="zhang3@corp.cn") == [] and reg.search("zeng", q="13800138000") == []


def test_departed_users_only_for_admins_who_ask(reg: Registry) -> None:
    assert "gone" not in reg.search(q="张三")
    assert reg.search(q="张三", include_left=True) == ["zs", "zsf", "gone"]
    failure = fails(reg.directory.SearchUsers, dpb.SearchUsersRequest(
        viewer=pb.Viewer(user_id="zs"), q="张三", include_left=True), grpc.StatusCode.PERMISSION_DENIED)
    assert [v.field for v in failure.violations] == ["include_left"]
    # by id a departed user is still shown (history shows their name), marked left
    one = reg.directory.GetDirectoryUser(dpb.GetDirectoryUserRequest(viewer=pb.Viewer(user_id="zs"), user_id="gone"))
    assert one.name == "张三四" and one.left


def test_contact_fields_for_admins_self_and_managers_above(reg: Registry) -> None:
    def seen(viewer: str) -> dict[str, str]:
        return {u.id: u.email for u in reg.search_users(viewer, limit=200).users if u.contact_visible}

    assert set(seen("zs")) == {"zs"}  # only themselves
    assert seen("zs")["zs"] == "zhang3@corp.cn"
    assert set(seen("boss")) == {"boss", "zs", "zeng", "shan"}  # sales and the east team below it
    assert set(seen("opsmgr")) == {"opsmgr", "zsf", "tom"}
    assert len(seen("admin")) == 9
    assert set(seen("ceo")) == set(seen("admin")) - {"loner"}  # manages the root: all but the unassigned
    hidden = next(u for u in reg.search_users("zeng", q="张三").users if u.id == "zs")
    assert (hidden.email, hidden.mobile, hidden.region, hidden.contact_visible) == ("", "", "", False)
    assert hidden.name == "张三" and hidden.department_name == "销售部" and list(hidden.roles) == ["sales"]
    own = reg.directory.GetDirectoryUser(dpb.GetDirectoryUserRequest(viewer=pb.Viewer(user_id="zs"), user_id="zs"))
    assert own.mobile == "13800138000" and own.region == "华东"
    fails(reg.directory.GetDirectoryUser, dpb.GetDirectoryUserRequest(viewer=pb.Viewer(user_id="zs"),
                                                                      user_id="nobody"), grpc.StatusCode.NOT_FOUND)


def test_department_members_role_filter_and_paging(reg: Registry) -> None:
    assert reg.search("zs", department_id="sales") == ["boss", "zs"]  # by pinyin: li…, zhang…
    assert reg.search("zs", department_id="sales", recursive=True) == ["boss", "shan", "zeng", "zs"]
    assert reg.search("zs", department_id="hq", recursive=True, q="zs") == ["zeng", "zs", "zsf"]
    assert reg.search("zs", role="sales") == ["shan", "loner", "zeng", "zs"]
    assert reg.search("zs", role="presales") == ["shan"] and reg.search("zs", role="sale") == []
    fails(reg.directory.SearchUsers, dpb.SearchUsersRequest(viewer=pb.Viewer(user_id="zs"), department_id="nope"),
          grpc.StatusCode.NOT_FOUND)
    everyone = reg.search(limit=200)
    paged: list[str] = []
    cursor = ""
    while True:
        page = reg.search_users(limit=3, cursor=cursor)
        paged += [u.id for u in page.users]
        cursor = page.next_cursor
        if not cursor:
            break
    assert paged == everyone and len(everyone) == 9
    ranked = [u.id for u in reg.search_users(q="san", limit=200).users]
    first = reg.search_users(q="san", limit=1)
    second = reg.search_users(q="san", limit=200, cursor=first.next_cursor)
    assert [u.id for u in first.users] + [u.id for u in second.users] == ranked
    bad = fails(reg.directory.SearchUsers, dpb.SearchUsersRequest(cursor="x!", limit=500),
                grpc.StatusCode.INVALID_ARGUMENT)
    assert {v.field for v in bad.violations} == {"limit"}
    bad = fails(reg.directory.SearchUsers, dpb.SearchUsersRequest(cursor="not-a-cursor"),
                grpc.StatusCode.INVALID_ARGUMENT)
    assert [v.field for v in bad.violations] == ["cursor"]


def test_org_tree_with_managers_and_counts(reg: Registry) -> None:
    resp = reg.directory.GetOrgTree(dpb.GetOrgTreeRequest(viewer=pb.Viewer(user_id="zs")), timeout=10)
    got = {d.id: (d.parent_id, d.manager_name, d.member_count, d.total_count) for d in resp.departments}
    assert [d.id for d in resp.departments] == ["hq", "sales", "east", "ops"]
    assert got == {"hq": ("", "王总", 1, 8), "sales": ("hq", "李经理", 2, 4), "east": ("sales", "", 2, 2),
                   "ops": ("hq", "赵主管", 3, 3)}
    assert resp.unassigned_count == 1
    with_left = reg.directory.GetOrgTree(dpb.GetOrgTreeRequest(viewer=pb.Viewer(user_id="admin", is_admin=True),
                                                               include_left=True))
    assert {d.id: d.member_count for d in with_left.departments}["sales"] == 3


def test_keys_follow_renames_and_rows_written_without_them(reg: Registry) -> None:
    reg.registry.UpsertOrg(pb.UpsertOrgRequest(request_id="rename", users=[
        pb.User(id="zs", name="章叁", department_id="sales", roles=["sales"])]), timeout=10)
    assert reg.search(q="zhangsan") == ["zs", "zsf"]  # 章叁 reads zhangsan too
    assert reg.search(q="张三") == ["zsf"]
    # Rows written before the index existed, or by a path that did not key them: keyed before the
    # next search.
    engine = make_engine(reg.db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM user_search WHERE user_id IN ('zeng', 'shan')"))
            conn.execute(sa.text("UPDATE org_user SET name = '欧阳锋' WHERE id = 'tom'"))
    finally:
        engine.dispose()
    assert reg.search(q="zengsan") == ["zeng"] and reg.search(q="oyf") == ["tom"]
    assert rows(reg.db_url, "SELECT name FROM user_search WHERE user_id = 'tom'") == [("欧阳锋",)]


def test_a_few_thousand_users_are_searched_without_computing_pinyin(
    reg: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    users = [pb.User(id=f"bulk-{i}", name=surnames[i % 20] + given[(i // 20) % 20] + given[(i // 400) % 20],
                     department_id="ops", roles=["staff"]) for i in range(3000)]
    for n in range(0, len(users), 1000):
        reg.registry.UpsertOrg(pb.UpsertOrgRequest(request_id=f"bulk-{n}", users=users[n:n + 1000]), timeout=60)
    calls: list[str] = []
    real = name_keys.name_keys

    def counted(name: str) -> name_keys.NameKeys:
        calls.append(name)
        return real(name)

    monkeypatch.setattr(name_keys, "name_keys", counted)
    page = reg.search_users("zs", q="zhang", limit=50)
    assert calls == []  # keys were computed by the upsert: the search is one query over stored keys
    reg.registry.UpsertOrg(pb.UpsertOrgRequest(request_id="one-more", users=[
        pb.User(id="bulk-new", name="张新", department_id="ops")]), timeout=10)
    assert calls == ["张新"]  # (the counter does see keys being computed)
    assert len(page.users) == 50 and page.next_cursor and all(u.name[0] == "张" for u in page.users)
    assert len(reg.search("zs", q="zhang", limit=200)) == 150 + 3  # 150 张 among the bulk, 张新, 张三, 张三丰
    assert reg.search("zs", q="张伟芳") == [u.id for u in users if u.name == "张伟芳"]
    initials = reg.search_users("zs", q="zwf", limit=200).users
    assert initials and {u.name for u in initials} == {u.name for u in users if u.name[1:] == "伟芳"
                                                       and u.name[0] in "张赵周朱"}


def test_admin_lists_every_live_token_with_filters_and_pages(reg: Registry) -> None:
    def issue(user_id: str, days: int, now: datetime, scopes: list[str] | None = None) -> str:
        req = pb.IssueTokenRequest(request_id=uuid.uuid4().hex, user_id=user_id, name=f"{user_id}-{days}",
                                   expires_in_days=days, now=at(now))
        if scopes is not None:
            req.scopes.extend(scopes)
            req.scopes_given = True
        return str(reg.registry.IssueToken(req, timeout=10).access_token.id)

    a = issue("zs", 90, T0)
    b = issue("boss", 10, T0 + timedelta(minutes=1))
    c = issue("tom", 5, T0 - timedelta(days=10), ["crm:write"])  # expired by T0
    d = issue("zs", 30, T0 + timedelta(minutes=2))
    reg.registry.RevokeToken(pb.RevokeTokenRequest(user_id="zs", token_id=d), timeout=10)

    def listed(**kw: Any) -> list[tuple[str, str, bool]]:
        resp = reg.directory.ListAccessTokens(dpb.ListAccessTokensRequest(now=at(T0), **kw), timeout=10)
        return [(t.token.id, t.user_name, t.expired) for t in resp.tokens]

    assert listed() == [(b, "李经理", False), (a, "张三", False)]  # newest first, revoked and expired left out
    assert listed(include_expired=True)[-1] == (c, "Tom李", True)
    assert listed(user_id="zs") == [(a, "张三", False)]
    assert listed(expiring_before=at(T0 + timedelta(days=30))) == [(b, "李经理", False)]
    first = reg.directory.ListAccessTokens(dpb.ListAccessTokensRequest(now=at(T0), limit=1))
    rest = reg.directory.ListAccessTokens(dpb.ListAccessTokensRequest(now=at(T0), cursor=first.next_cursor))
    assert [t.token.id for t in first.tokens] + [t.token.id for t in rest.tokens] == [b, a]
    assert not rest.next_cursor


def test_own_tokens_scopes_from_roles_and_the_token_in_use(reg: Registry) -> None:
    def own(user_id: str, **kw: Any) -> pb.IssueTokenResponse:
        return reg.directory.IssueOwnToken(dpb.IssueOwnTokenRequest(
            request_id=uuid.uuid4().hex, user_id=user_id, now=at(T0), **kw), timeout=10)

    rep = own("zs", name="脚本")
    assert rep.token.startswith("bbt_") and list(rep.access_token.scopes) == ["reports:read"]
    assert rep.access_token.expires_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=90)
    refused = fails(reg.directory.IssueOwnToken, dpb.IssueOwnTokenRequest(
        user_id="zs", name="x", scopes=["crm:write"], scopes_given=True), grpc.StatusCode.PERMISSION_DENIED)
    assert refused.reason == "scope_not_allowed" and [v.field for v in refused.violations] == ["scopes[0]"]
    integ = own("tom", name="集成", expires_in_days=365)
    assert list(integ.access_token.scopes) == ["crm:write", "org:sync", "reports:read"]
    # Asked with a crm-only token expiring in 5 days: no more scopes, no longer life.
    parent = reg.registry.IssueToken(pb.IssueTokenRequest(
        request_id="p", user_id="tom", scopes=["crm:write"], scopes_given=True, expires_in_days=5, now=at(T0)))
    child = own("tom", name="子令牌", via_token_id=parent.access_token.id)
    assert list(child.access_token.scopes) == ["crm:write"]
    assert child.access_token.expires_at == parent.access_token.expires_at
    fails(reg.directory.IssueOwnToken, dpb.IssueOwnTokenRequest(
        user_id="tom", name="x", scopes=["org:sync"], scopes_given=True, via_token_id=parent.access_token.id,
        now=at(T0)), grpc.StatusCode.PERMISSION_DENIED)
    bad = fails(reg.directory.IssueOwnToken, dpb.IssueOwnTokenRequest(
        user_id="tom", name="", expires_in_days=6, via_token_id=parent.access_token.id, now=at(T0)),
        grpc.StatusCode.INVALID_ARGUMENT)
    assert {v.field for v in bad.violations} == {"name", "expires_in_days"}
    fails(reg.directory.IssueOwnToken, dpb.IssueOwnTokenRequest(user_id="zs", name="x", expires_in_days=366),
          grpc.StatusCode.INVALID_ARGUMENT)
    # The new tokens authenticate and are listed as the user's.
    who = reg.registry.Authenticate(pb.AuthenticateRequest(token=child.token, now=at(T0)), timeout=10)
    assert who.user.id == "tom" and list(who.access_token.scopes) == ["crm:write"]
    assert {t.id for t in reg.registry.ListTokens(pb.ListTokensRequest(user_id="zs")).tokens} == {rep.access_token.id}
