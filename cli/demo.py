"""Demo data (``baobei dev --demo``, and what the browser tests run on): a sales org, a
registration form with a conditional field, an attachment and a restricted field, a two-step
approval policy, and people with passwords (set through the invite links, as a real admin would).
Loading it again changes nothing: people who already have a password keep it."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PASSWORD = "Hetong-Liuzhuan-2026!"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str
    roles: tuple[str, ...]
    department_id: str


REP = Person("zhangsan", "张三", "zhangsan@demo.baobei.cn", ("sales",), "d-sales")
MANAGER = Person("lisi", "李四", "lisi@demo.baobei.cn", ("manager",), "d-sales")
FINANCE = Person("wangwu", "王五", "wangwu@demo.baobei.cn", ("finance",), "d-fin")
ENGINEER = Person("zhaoliu", "赵六", "zhaoliu@demo.baobei.cn", ("delivery",), "d-delivery")
PEOPLE = (REP, MANAGER, FINANCE, ENGINEER)

ORG = {
    "departments": [
        {"id": "d-hq", "name": "总部"},
        {"id": "d-sales", "name": "华东销售部", "parent_id": "d-hq", "manager_id": "lisi"},
        {"id": "d-fin", "name": "财务部", "parent_id": "d-hq", "manager_id": "wangwu"},
        {"id": "d-delivery", "name": "交付中心", "parent_id": "d-hq"},
    ],
    "users": [
        {"id": p.id, "name": p.name, "email": p.email, "department_id": p.department_id, "roles": list(p.roles),
         "region": "华东"}
        for p in PEOPLE
    ],
}

FORM_KEY = "standard"
FORM = {
    "title": "标准项目报备",
    "fields": [
        {"key": "industry", "label": "行业", "type": "select", "required": True,
         "options": ["政府", "金融", "制造", "医疗"]},
        {"key": "bid_type", "label": "采购方式", "type": "select", "required": True,
         "options": ["公开招标", "邀请招标", "单一来源"]},
        {"key": "tender_no", "label": "招标编号", "type": "text", "max_length": 40,
         "visible_when": 'fields.bid_type == "公开招标"', "required_when": 'fields.bid_type == "公开招标"'},
        {"key": "contact_phone", "label": "客户联系电话", "type": "phone"},
        {"key": "contact_email", "label": "客户邮箱", "type": "email"},
        {"key": "expected_sign", "label": "预计签约日期", "type": "date"},
        {"key": "headcount", "label": "投入人数", "type": "number", "min": 1, "max": 500},
        {"key": "collect", "label": "预计回款", "type": "money"},
        {"key": "products", "label": "产品线", "type": "multiselect",
         "options": ["云平台", "数据中台", "安全", "运维服务"]},
        {"key": "presales", "label": "售前支持", "type": "user"},
        {"key": "delivery_dept", "label": "交付部门", "type": "department"},
        {"key": "partner_uscc", "label": "合作伙伴信用代码", "type": "uscc"},
        {"key": "summary", "label": "项目概述", "type": "textarea", "max_length": 2000},
        {"key": "proposal", "label": "方案附件", "type": "attachment"},
        {"key": "margin", "label": "毛利率(%)", "type": "number", "read_roles": ["finance"]},
    ],
}
POLICY = {
    "form_key": FORM_KEY,
    "steps": [
        {"name": "部门经理审批", "approvers": {"type": "manager_of_submitter"}, "mode": "any", "sla": "24h"},
        {"name": "财务审批", "when": "project.amount >= 100000", "approvers": {"type": "role", "role": "finance"},
         "mode": "any", "sla": "3d"},
    ],
}


def sign_in_lines(base: str) -> list[str]:
    people = "、".join(f"{p.name} {p.id}" for p in PEOPLE)
    return [f"  demo data: sign in at {base}/login as {people}; password {PASSWORD}"]


def seed(base: str, admin_token: str) -> None:
    """Load the demo data into a fresh stack and give everyone PASSWORD."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30) as admin:
        admin.put("/api/v1/org", json=ORG).raise_for_status()
        admin.put(f"/api/v1/forms/{FORM_KEY}", json=FORM).raise_for_status()
        admin.put("/api/v1/approval-policies/standard", json=POLICY).raise_for_status()
        for p in PEOPLE:
            invite = admin.post(f"/api/v1/users/{p.id}/invite")
            if invite.status_code == 409:  # password already set (demo loaded before)
                continue
            url = invite.raise_for_status().json()["url"]
            token = url.split("token=", 1)[1]
            with httpx.Client(base_url=base, timeout=30) as anon:
                anon.post("/auth/password/setup", json={"token": token, "password": PASSWORD}).raise_for_status()
