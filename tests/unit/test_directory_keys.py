"""People-picker search keys (pinyin, initials, surname readings), query forms, own-token rules,
contact visibility and the department tree — pure functions, no database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from baobei.core.errors import Forbidden, ValidationFailed
from services.registry.directory.domain import Sight, descendants, tree
from services.registry.directory.keys import name_keys, normalise, query_variants, readings
from services.registry.directory.own_tokens import allowed_scopes, own_token_spec
from services.registry.domain import Department, User, Viewer

T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)


def keys_of(name: str) -> list[str]:
    return name_keys(name).keys.strip("|").split("|")


def test_a_chinese_name_is_keyed_by_itself_its_pinyin_and_initials() -> None:
    k = name_keys("张三")
    assert k.keys == "|张三|zhangsan|zs|" and k.sort_key == "zhangsan"


@pytest.mark.parametrize(("name", "surname_reading", "other"), [
    ("曾三", "zengsan", "cengsan"), ("单雄信", "shanxiongxin", "danxiongxin"), ("解缙", "xiejin", "jiejin"),
    ("区小明", "ouxiaoming", "quxiaoming"), ("仇英", "qiuying", "chouying"), ("朴槿惠", "piaojinhui", "pujinhui"),
])
def test_a_surname_with_several_readings_is_read_as_a_surname_first_and_found_by_every_reading(
    name: str, surname_reading: str, other: str
) -> None:
    k = name_keys(name)
    assert k.sort_key == surname_reading
    assert surname_reading in keys_of(name) and other in keys_of(name)


def test_compound_surnames_and_given_names_in_their_default_reading() -> None:
    assert name_keys("万俟卨").sort_key == "moqixie"
    assert name_keys("尉迟恭").sort_key == "yuchigong"
    assert name_keys("欧阳娜娜").keys == "|欧阳娜娜|ouyangnana|oynn|"
    # 重 in a given name keeps pypinyin's phrase-aware reading; only the surname is corrected.
    assert readings("重庆")[0] == ["chong", "qing"]


def test_latin_names_full_width_and_mixed_scripts() -> None:
    assert keys_of("John  Smith") == ["john smith", "johnsmith", "js"]
    assert keys_of("Tom李") == ["tom李", "tomli", "tl"]
    assert keys_of("ＡＢＣ") == ["abc"]  # full width → half width; one word has no initials key
    assert normalise(" 张|三\t ") == "张三"


def test_readings_are_bounded() -> None:
    assert len(readings("能")) <= 4 and readings("能")[0] == ["nai"]
    assert readings("") == [] and name_keys("").keys == "||"


def test_query_forms() -> None:
    assert query_variants("张三") == ["张三"]  # Chinese alone matches the name as written
    assert query_variants("Zhang San") == ["zhang san", "zhangsan"]
    assert query_variants("张s") == ["张s", "zhangs"]
    assert query_variants("zhang三") == ["zhang三", "zhangsan"]
    assert query_variants("曾s") == ["曾s", "zengs", "cengs"]
    assert query_variants("  |  ") == []


def test_own_token_scopes_follow_roles_and_the_token_in_use() -> None:
    assert allowed_scopes(["sales"], None) == ("reports:read",)
    assert allowed_scopes(["integrator"], None) == ("crm:write", "org:sync", "reports:read")
    assert allowed_scopes(["admin"], ["crm:write"]) == ("crm:write",)
    spec = own_token_spec(name=" 脚本 ", scopes=[], scopes_given=False, expires_in_days=0, roles=["sales"],
                          parent_scopes=None, parent_expires_at=None, now=T0)
    assert spec.name == "脚本" and spec.scopes == ("reports:read",) and spec.expires_at == T0 + timedelta(days=90)
    with pytest.raises(Forbidden) as refused:
        own_token_spec(name="x", scopes=["reports:read", "crm:write"], scopes_given=True, expires_in_days=0,
                       roles=["sales"], parent_scopes=None, parent_expires_at=None, now=T0)
    assert refused.value.code == "scope_not_allowed" and [v.field for v in refused.value.violations] == ["scopes[1]"]
    with pytest.raises(Forbidden):  # an integrator's crm-only token cannot mint an org:sync token
        own_token_spec(name="x", scopes=["org:sync"], scopes_given=True, expires_in_days=0, roles=["integrator"],
                       parent_scopes=["crm:write"], parent_expires_at=None, now=T0)


def test_own_token_lifetime_and_name() -> None:
    with pytest.raises(ValidationFailed) as bad:
        own_token_spec(name="", scopes=["nope"], scopes_given=True, expires_in_days=366, roles=[], parent_scopes=None,
                       parent_expires_at=None, now=T0)
    assert {v.field for v in bad.value.violations} == {"name", "scopes[0]", "expires_in_days"}
    parent_end = T0 + timedelta(days=10)
    capped = own_token_spec(name="x", scopes=[], scopes_given=False, expires_in_days=0, roles=[],
                            parent_scopes=["reports:read"], parent_expires_at=parent_end, now=T0)
    assert capped.expires_at == parent_end  # the default is shortened to the asking token's expiry
    with pytest.raises(ValidationFailed) as longer:
        own_token_spec(name="x", scopes=[], scopes_given=False, expires_in_days=11, roles=[],
                       parent_scopes=["reports:read"], parent_expires_at=parent_end, now=T0)
    assert [v.field for v in longer.value.violations] == ["expires_in_days"]


DEPTS = {d.id: d for d in [
    Department("hq", "总部", "", "ceo"), Department("sales", "销售部", "hq", "boss"),
    Department("east", "华东组", "sales", ""), Department("ops", "运营部", "hq", "opsmgr"),
]}
USERS = [
    User("ceo", "王总", "ceo@x.cn", department_id="hq"), User("boss", "李经理", "boss@x.cn", department_id="sales"),
    User("rep", "张三", "rep@x.cn", "13800138000", "east", ("sales",)),
    User("ops1", "赵六", "ops@x.cn", department_id="ops"),
    User("gone", "钱七", "gone@x.cn", department_id="east", left=True), User("nobody", "孙八"),
]


def test_contacts_for_admins_self_and_managers_above_only() -> None:
    by_id = {u.id: u for u in USERS}
    boss = Sight(Viewer("boss"), DEPTS, include_left=False)
    assert boss.entry(by_id["rep"]).contact_visible and boss.entry(by_id["rep"]).user.mobile == "13800138000"
    assert not boss.entry(by_id["ops1"]).contact_visible and boss.entry(by_id["ops1"]).user.email == ""
    rep = Sight(Viewer("rep"), DEPTS, include_left=False)
    assert rep.entry(by_id["rep"]).contact_visible and not rep.entry(by_id["boss"]).contact_visible
    assert rep.entry(by_id["rep"]).department_name == "华东组"
    assert Sight(Viewer("x", is_admin=True), DEPTS, include_left=True).entry(by_id["ops1"]).contact_visible
    with pytest.raises(Forbidden):
        Sight(Viewer("rep"), DEPTS, include_left=True)


def test_tree_nests_counts_and_finds_the_unassigned() -> None:
    direct = Counter(u.department_id for u in USERS if not u.left)
    nodes, unassigned = tree(DEPTS, direct, {u.id: u for u in USERS})
    assert [n.department.id for n in nodes] == ["hq", "sales", "east", "ops"]  # parents first, siblings by name
    counts = {n.department.id: (n.member_count, n.total_count) for n in nodes}
    assert counts == {"hq": (1, 4), "sales": (1, 2), "east": (1, 1), "ops": (1, 1)}
    assert unassigned == 1 and nodes[1].manager_name == "李经理"
    assert descendants("sales", DEPTS) == {"sales", "east"}
    cyclic = {"a": Department("a", "甲", "b"), "b": Department("b", "乙", "a")}
    assert sorted(n.department.id for n in tree(cyclic, {}, {})[0]) == ["a", "b"]
