"""The pure DingTalk / WeCom / Feishu directory → org mapping (edge/org_import.py)."""

from __future__ import annotations

from typing import Any

import pytest

from edge.org_import import OrgDepartment, from_dingtalk, from_feishu, from_wecom, ident, normalise_mobile


def dingtalk_payload() -> dict[str, Any]:
    return {
        "departments": [
            {"dept_id": 1, "name": "某某科技"},  # department/get of the root (no parent_id)
            {"dept_id": 100, "name": "销售部", "parent_id": 1, "dept_manager_userid_list": ["gone", "boss"]},
            {"dept_id": 200, "name": "华东销售", "parent_id": 100, "auto_add_user": True},
        ],
        "users": [
            {"userid": "boss", "name": "李经理", "mobile": "+86-13800138000", "email": "boss@example.com",
             "dept_id_list": [100], "title": "经理", "active": True,
             "leader_in_dept": [{"dept_id": 100, "leader": True}]},
            {"userid": "rep", "name": "张三", "mobile": "13900139000", "org_email": "rep@corp.example.com",
             "dept_id_list": [200, 100], "manager_userid": "boss", "active": False,
             "leader_in_dept": [{"dept_id": 200, "leader": True}, {"dept_id": 100, "leader": False}]},
            {"userid": "gone", "name": "王五", "dept_id_list": [100], "active": True},
            {"userid": "hk", "name": "陈六", "mobile": "+852-91234567", "dept_id_list": [200]},
        ],
        "resigned_userids": ["gone", "old"],
    }


def test_dingtalk_mapping() -> None:
    imp = from_dingtalk(dingtalk_payload())
    assert imp.violations == []
    assert imp.departments == [
        OrgDepartment(id="1", name="某某科技"),
        # the first listed manager left: the next one
        OrgDepartment(id="100", name="销售部", parent_id="1", manager_id="boss"),
        # no dept_manager_userid_list: the user whose leader_in_dept marks them leader
        OrgDepartment(id="200", name="华东销售", parent_id="100", manager_id="rep"),
    ]
    users = {u.id: u for u in imp.users}
    assert users["boss"].mobile == "13800138000" and users["boss"].email == "boss@example.com"
    assert users["boss"].department_id == "100"
    # first of dept_id_list; org_email when email is missing; active=false is NOT a departure
    assert users["rep"].department_id == "200" and users["rep"].email == "rep@corp.example.com"
    assert not users["rep"].left
    assert users["gone"].left
    # a foreign mobile is dropped with a warning naming the source field
    assert users["hk"].mobile == ""
    assert [w.field for w in imp.warnings] == ["users[3].mobile"]
    # resigned ids not in users are kept for the caller to resolve against the registry
    assert imp.left == ["gone", "old"]
    assert users["hk"].given == frozenset({"name", "mobile", "department_id"})


def wecom_payload() -> dict[str, Any]:
    return {
        "department": [
            {"id": 1, "name": "总部", "parentid": 0, "order": 1, "department_leader": []},
            {"id": 2, "name": "销售部", "name_en": "Sales", "parentid": 1, "department_leader": ["zhangsan"]},
            {"id": 3, "name": "华南销售", "parentid": 2},
        ],
        "userlist": [
            {"userid": "zhangsan", "name": "张三", "department": [2, 3], "main_department": 2,
             "is_leader_in_dept": [1, 0], "mobile": "13800000001", "email": "zs@example.com", "status": 1,
             "direct_leader": []},
            {"userid": "lisi", "name": "李四", "department": [3, 2], "is_leader_in_dept": [1, 0],
             "status": 5, "biz_mail": "ls@corp.example.com"},
            {"userid": "wangwu", "name": "王五", "department": [3], "is_leader_in_dept": [1], "status": 2},
        ],
    }


def test_wecom_mapping() -> None:
    imp = from_wecom(wecom_payload())
    assert imp.violations == []
    depts = {d.id: d for d in imp.departments}
    assert depts["1"] == OrgDepartment(id="1", name="总部")  # parentid 0 = top level, no leader
    assert depts["2"].parent_id == "1" and depts["2"].manager_id == "zhangsan"
    # lisi (leader of 3) left: the next leader by is_leader_in_dept (status 2 = disabled, still here)
    assert depts["3"].manager_id == "wangwu"
    users = {u.id: u for u in imp.users}
    assert users["zhangsan"].department_id == "2"  # main_department
    assert users["lisi"].department_id == "3" and users["lisi"].email == "ls@corp.example.com"
    assert users["lisi"].left and not users["wangwu"].left
    assert imp.left == ["lisi"]


def test_source_paths_for_registry_errors() -> None:
    imp = from_wecom(wecom_payload())
    assert imp.source_path("departments[2].parent_id") == "department[2].parentid"
    assert imp.source_path("users[0].department_id") == "userlist[0].main_department"
    assert imp.source_path("users[1].department_id") == "userlist[1].department"  # no main_department given
    assert imp.source_path("users[0].mobile") == "userlist[0].mobile"
    assert imp.source_path("request_id") == "request_id"
    dt = from_dingtalk(dingtalk_payload())
    assert dt.source_path("users[1].department_id") == "users[1].dept_id_list"
    assert dt.source_path("departments[1].parent_id") == "departments[1].parent_id"


def test_violations_name_the_source_fields() -> None:
    imp = from_dingtalk({"departments": [{"dept_id": 5, "name": ""}, {"dept_id": 5, "name": "x"}],
                         "users": [{"name": "无 ID"}, {"userid": "a", "name": "A"}, {"userid": "a", "name": "A"}]})
    fields = sorted(v.field for v in imp.violations)
    assert fields == ["departments[0].name", "departments[1].dept_id", "users[0].userid", "users[2].userid"]


def test_repeat_is_identical() -> None:
    assert from_dingtalk(dingtalk_payload()) == from_dingtalk(dingtalk_payload())
    assert from_wecom(wecom_payload()) == from_wecom(wecom_payload())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("13800138000", ("13800138000", True)), ("+86 138-0013-8000", ("13800138000", True)),
     ("8613800138000", ("13800138000", True)), ("", ("", True)), (None, ("", True)),
     ("+852-91234567", ("", False)), ("12345", ("", False))],
)
def test_mobile(raw: Any, expected: tuple[str, bool]) -> None:
    assert normalise_mobile(raw) == expected


def test_ident() -> None:
    assert ident(12) == "12" and ident(12.0) == "12" and ident(" a ") == "a" and ident(None) == "" and ident(True) == ""


def feishu_payload(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "departments": [
            {"name": "销售部", "open_department_id": "od-sales", "department_id": "D100", "parent_department_id": "0",
             "leader_user_id": "gone", "leaders": [{"leaderType": 2, "leaderID": "rep"},
                                                   {"leaderType": 1, "leaderID": "boss"}],
             "status": {"is_deleted": False}, "member_count": 3},
            {"name": "华东销售", "open_department_id": "od-east", "parent_department_id": "od-sales",
             "status": {"is_deleted": False}},
            {"name": "已撤销", "open_department_id": "od-old", "parent_department_id": "0",
             "status": {"is_deleted": True}},
        ],
        "users": [
            {"user_id": "boss", "open_id": "ou_1", "union_id": "on_1", "name": "李经理", "mobile": "+8613800138000",
             "email": "boss@example.com", "department_ids": ["od-sales"],
             "status": {"is_frozen": False, "is_resigned": False, "is_activated": True}},
            {"user_id": "rep", "open_id": "ou_2", "name": "张三", "enterprise_email": "rep@corp.example.com",
             "department_ids": ["od-sales", "od-east"], "job_title": "销售",
             "orders": [{"department_id": "od-sales", "is_primary_dept": False},
                        {"department_id": "od-east", "is_primary_dept": True}],
             "status": {"is_frozen": True, "is_resigned": False}},
            {"user_id": "gone", "open_id": "ou_3", "name": "王五", "department_ids": ["od-sales"],
             "status": {"is_resigned": True}},
            {"user_id": "top", "open_id": "ou_4", "name": "赵六", "department_ids": ["0"], "status": {}},
        ],
    }
    body.update(over)
    return body


def test_feishu_mapping() -> None:
    imp = from_feishu(feishu_payload())
    assert imp.violations == []
    assert imp.departments == [
        # parent "0" without the root department in the payload: top level; leader_user_id left,
        # so the main leader (leaderType 1) of `leaders`
        OrgDepartment(id="od-sales", name="销售部", manager_id="boss"),
        OrgDepartment(id="od-east", name="华东销售", parent_id="od-sales"),
    ]
    assert [w.field for w in imp.warnings] == ["departments[2]"]  # deleted: skipped
    users = {u.id: u for u in imp.users}
    assert users["boss"].mobile == "13800138000" and users["boss"].department_id == "od-sales"
    # the primary department from orders; enterprise_email when email is missing; frozen is not left
    assert users["rep"].department_id == "od-east" and users["rep"].email == "rep@corp.example.com"
    assert not users["rep"].left and users["gone"].left and imp.left == ["gone"]
    assert users["top"].department_id == ""  # in the root only, and the root was not sent
    assert imp.source_path("users[1].department_id") == "users[1].department_ids"
    assert imp.source_path("departments[1].parent_id") == "departments[1].parent_department_id"


def test_feishu_root_and_custom_department_ids() -> None:
    root = {"name": "某某科技", "department_id": "0", "open_department_id": "0", "status": {"is_deleted": False}}
    departments = [root, {"name": "销售部", "department_id": "D100", "open_department_id": "od-sales",
                          "parent_department_id": "0"}]
    users = [{"user_id": "top", "name": "赵六", "department_ids": ["0"]},
             {"user_id": "rep", "name": "张三", "department_ids": ["D100"]}]
    imp = from_feishu({"department_id_type": "department_id", "departments": departments, "users": users})
    assert imp.violations == []
    assert imp.departments == [OrgDepartment(id="0", name="某某科技"),
                               OrgDepartment(id="D100", name="销售部", parent_id="0")]
    assert {u.id: u.department_id for u in imp.users} == {"top": "0", "rep": "D100"}
    bad = from_feishu({"department_id_type": "department_id", "departments": [{"name": "无自定义 ID"}],
                       "users": [{"open_id": "ou_x", "name": "无 user_id"}]})
    assert sorted(v.field for v in bad.violations) == ["departments[0].department_id", "users[0].user_id"]
    assert from_feishu(feishu_payload()) == from_feishu(feishu_payload())
