"""Map the JSON that the DingTalk, WeCom and Feishu directory APIs return to the registry's org (pure: no
I/O). The field mapping is documented in docs/integrations.md.

Ids are kept exactly as the platform gives them (numbers become their decimal text), so a user
synced from DingTalk has the DingTalk ``userid`` as Baobei user id. Every department / user of the
result remembers where it came from (``departments[3]``, ``userlist[5]``) so the registry's
validation errors can be reported against the caller's payload."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from baobei.core.errors import FieldViolation

_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")
# WeCom user/list "status": 1 active, 2 disabled, 4 not activated, 5 left the company.
WECOM_STATUS_LEFT = 5


@dataclass(frozen=True)
class OrgDepartment:
    id: str
    name: str
    parent_id: str = ""
    manager_id: str = ""


@dataclass(frozen=True)
class OrgUser:
    id: str
    name: str
    email: str = ""
    mobile: str = ""
    department_id: str = ""
    left: bool = False
    # Fields the platform gave (a missing key keeps the registry's current value).
    given: frozenset[str] = frozenset()


@dataclass
class OrgImport:
    departments: list[OrgDepartment] = field(default_factory=list)
    users: list[OrgUser] = field(default_factory=list)
    # Users who left: in ``users`` with left=True, or named only by id (resigned_userids).
    left: list[str] = field(default_factory=list)
    # Source path of departments[i] / users[i] (e.g. "department[2]", "users[0]").
    department_paths: list[str] = field(default_factory=list)
    user_paths: list[str] = field(default_factory=list)
    # Source field names of the registry fields, for error paths.
    field_names: dict[str, str] = field(default_factory=dict)
    # Exact source paths for single registry paths (e.g. a WeCom user without main_department).
    path_overrides: dict[str, str] = field(default_factory=dict)
    violations: list[FieldViolation] = field(default_factory=list)
    warnings: list[FieldViolation] = field(default_factory=list)

    def source_path(self, registry_path: str) -> str:
        """``users[2].department_id`` of the UpsertOrg request → ``users[5].dept_id_list``."""
        if registry_path in self.path_overrides:
            return self.path_overrides[registry_path]
        m = re.fullmatch(r"(departments|users)\[(\d+)\](?:\.(.*))?", registry_path)
        if not m:
            return registry_path
        kind, index, rest = m.group(1), int(m.group(2)), m.group(3) or ""
        paths = self.department_paths if kind == "departments" else self.user_paths
        if index >= len(paths):
            return registry_path
        key = f"{kind}.{rest}" if rest else ""
        name = self.field_names.get(key, rest)
        return f"{paths[index]}.{name}" if name else paths[index]


def ident(value: Any) -> str:
    """A platform id as text: 12 → "12", " abc " → "abc", None/bool → ""."""
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _root(value: Any) -> str:
    """Parent ids: 0 / missing = top level."""
    text = ident(value)
    return "" if text in ("", "0") else text


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def normalise_mobile(value: Any) -> tuple[str, bool]:
    """``(mobile, ok)``: a mainland mobile without +86 / separators, or ``("", False)`` when the
    value is set but not a mainland mobile (the registry only stores those)."""
    raw = re.sub(r"[\s\-()]", "", ident(value))
    if not raw:
        return "", True
    for prefix in ("+86", "0086", "86"):
        if raw.startswith(prefix) and len(raw) == len(prefix) + 11:
            raw = raw[len(prefix):]
            break
    return (raw, True) if _MAINLAND_MOBILE.fullmatch(raw) else ("", False)


def _items(payload: Mapping[str, Any], key: str) -> list[tuple[int, Mapping[str, Any]]]:
    value = payload.get(key) or []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)] if isinstance(value, list) else []


def _ids(values: Any) -> list[str]:
    if not isinstance(values, list):
        return [] if values in (None, "") else [ident(values)]
    return [i for i in (ident(v) for v in values) if i]


def _first_not_left(candidates: Iterable[str], left: set[str]) -> str:
    return next((c for c in candidates if c and c not in left), "")


def _check_ids(imp: OrgImport, id_key: str, user_id_key: str) -> None:
    seen: dict[str, str] = {}
    for d, path in zip(imp.departments, imp.department_paths, strict=True):
        if not d.id:
            imp.violations.append(FieldViolation(f"{path}.{id_key}", "部门 ID 为必填项", "department id is required"))
        elif d.id in seen:
            imp.violations.append(
                FieldViolation(f"{path}.{id_key}", f"部门 ID {d.id} 重复", f"duplicate department id {d.id}")
            )
        seen[d.id] = path
        if not d.name:
            imp.violations.append(FieldViolation(f"{path}.name", "部门名称为必填项", "department name is required"))
    users: set[str] = set()
    for u, path in zip(imp.users, imp.user_paths, strict=True):
        if not u.id:
            imp.violations.append(FieldViolation(f"{path}.{user_id_key}", "用户 ID 为必填项", "userid is required"))
        elif u.id in users:
            imp.violations.append(
                FieldViolation(f"{path}.{user_id_key}", f"用户 {u.id} 重复", f"duplicate userid {u.id}")
            )
        users.add(u.id)
        if not u.name and "name" in u.given:
            imp.violations.append(FieldViolation(f"{path}.name", "姓名为必填项", "name is required"))


def _mobile(raw: Mapping[str, Any], path: str, imp: OrgImport) -> str:
    mobile, ok = normalise_mobile(raw.get("mobile"))
    if not ok:
        imp.warnings.append(
            FieldViolation(f"{path}.mobile", "不是中国大陆手机号，未导入", "not a mainland mobile number: not imported")
        )
    return mobile


def _given(raw: Mapping[str, Any], names: Mapping[str, Sequence[str]]) -> frozenset[str]:
    return frozenset(ours for ours, theirs in names.items() if any(k in raw for k in theirs))


_DINGTALK_GIVEN = {
    "name": ("name",), "email": ("email", "org_email"), "mobile": ("mobile",), "department_id": ("dept_id_list",),
}
_WECOM_GIVEN = {
    "name": ("name",), "email": ("email", "biz_mail"), "mobile": ("mobile",),
    "department_id": ("main_department", "department"),
}


def from_dingtalk(payload: Mapping[str, Any]) -> OrgImport:
    """``{"departments": [listsub items], "users": [user/get results], "resigned_userids": [...]}``.

    A user leaves when listed in ``resigned_userids`` (``active: false`` only means the account was
    not activated yet). A department's manager is the first of its ``dept_manager_userid_list``
    who has not left, else the first user whose ``leader_in_dept`` marks them leader of it."""
    imp = OrgImport(field_names={
        "departments.id": "dept_id", "departments.parent_id": "parent_id",
        "departments.manager_id": "dept_manager_userid_list", "departments.name": "name",
        "users.id": "userid", "users.department_id": "dept_id_list", "users.mobile": "mobile",
        "users.email": "email", "users.name": "name",
    })
    resigned = set(_ids(payload.get("resigned_userids")))
    leaders: dict[str, list[str]] = {}
    for i, raw in _items(payload, "users"):
        uid = ident(raw.get("userid"))
        path = f"users[{i}]"
        for entry in raw.get("leader_in_dept") or []:
            if isinstance(entry, Mapping) and entry.get("leader") is True:
                leaders.setdefault(ident(entry.get("dept_id")), []).append(uid)
        depts = _ids(raw.get("dept_id_list"))
        imp.users.append(OrgUser(
            id=uid, name=_text(raw.get("name")), email=_text(raw.get("email")) or _text(raw.get("org_email")),
            mobile=_mobile(raw, path, imp), department_id=depts[0] if depts else "", left=uid in resigned,
            given=_given(raw, _DINGTALK_GIVEN),
        ))
        imp.user_paths.append(path)
    for i, raw in _items(payload, "departments"):
        did = ident(raw.get("dept_id"))
        managers = _ids(raw.get("dept_manager_userid_list")) + leaders.get(did, [])
        imp.departments.append(OrgDepartment(
            id=did, name=_text(raw.get("name")), parent_id=_root(raw.get("parent_id")),
            manager_id=_first_not_left(managers, resigned),
        ))
        imp.department_paths.append(f"departments[{i}]")
    imp.left = list(dict.fromkeys([u.id for u in imp.users if u.left] + sorted(resigned)))
    _check_ids(imp, "dept_id", "userid")
    return imp


def from_wecom(payload: Mapping[str, Any]) -> OrgImport:
    """``{"department": [department/list items], "userlist": [user/list items]}``.

    A user leaves with ``status`` 5. A department's manager is the first of its
    ``department_leader`` who has not left, else the first user with ``is_leader_in_dept`` 1 for
    it. A user's department is ``main_department``, else the first of ``department``."""
    imp = OrgImport(field_names={
        "departments.id": "id", "departments.parent_id": "parentid", "departments.manager_id": "department_leader",
        "departments.name": "name", "users.id": "userid", "users.department_id": "main_department",
        "users.mobile": "mobile", "users.email": "email", "users.name": "name",
    })
    left: set[str] = set()
    leaders: dict[str, list[str]] = {}
    for i, raw in _items(payload, "userlist"):
        uid = ident(raw.get("userid"))
        path = f"userlist[{i}]"
        gone = raw.get("status") == WECOM_STATUS_LEFT or ident(raw.get("status")) == str(WECOM_STATUS_LEFT)
        if gone:
            left.add(uid)
        depts = _ids(raw.get("department"))
        flags = raw.get("is_leader_in_dept") or []
        for dept, flag in zip(depts, flags if isinstance(flags, list) else [], strict=False):
            if flag in (1, "1", True):
                leaders.setdefault(dept, []).append(uid)
        main = ident(raw.get("main_department"))
        if not main:
            imp.path_overrides[f"users[{len(imp.users)}].department_id"] = f"{path}.department"
        imp.users.append(OrgUser(
            id=uid, name=_text(raw.get("name")), email=_text(raw.get("email")) or _text(raw.get("biz_mail")),
            mobile=_mobile(raw, path, imp), department_id=main or (depts[0] if depts else ""), left=gone,
            given=_given(raw, _WECOM_GIVEN),
        ))
        imp.user_paths.append(path)
    for i, raw in _items(payload, "department"):
        did = ident(raw.get("id"))
        managers = _ids(raw.get("department_leader")) + leaders.get(did, [])
        imp.departments.append(OrgDepartment(
            id=did, name=_text(raw.get("name")), parent_id=_root(raw.get("parentid")),
            manager_id=_first_not_left(managers, left),
        ))
        imp.department_paths.append(f"department[{i}]")
    imp.left = [u.id for u in imp.users if u.left]
    _check_ids(imp, "id", "userid")
    return imp


FEISHU_DEPARTMENT_ID_TYPES = ("open_department_id", "department_id")
FEISHU_ROOT = "0"
_FEISHU_GIVEN = {
    "name": ("name",), "email": ("email", "enterprise_email"), "mobile": ("mobile",),
    "department_id": ("department_ids", "orders"),
}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    status = raw.get("status")
    return isinstance(status, Mapping) and status.get(key) is True


def from_feishu(payload: Mapping[str, Any]) -> OrgImport:
    """``{"department_id_type"?: "open_department_id" | "department_id", "departments": [contact/v3
    department items], "users": [contact/v3 user items]}``, fetched with ``user_id_type=user_id``
    and that ``department_id_type`` (so ``parent_department_id`` and ``department_ids`` are of it).

    A department's id is its field named by ``department_id_type`` (Feishu's default
    ``open_department_id``). The tenant's root department is ``"0"``: a parent or user department
    ``"0"`` names it when the payload holds a department with id ``"0"``, else it means top level /
    no department. Departments with ``status.is_deleted`` are skipped (warning). The manager is the
    first of ``leader_user_id``, then the ``leaders`` (main leader first) who has not left. A user
    leaves with ``status.is_resigned`` (or ``is_exited``); ``is_frozen`` is not a departure. A
    user's department is the one ``orders`` marks ``is_primary_dept``, else the first of
    ``department_ids``."""
    kind = ident(payload.get("department_id_type")) or FEISHU_DEPARTMENT_ID_TYPES[0]
    imp = OrgImport(field_names={
        "departments.id": kind, "departments.parent_id": "parent_department_id",
        "departments.manager_id": "leader_user_id", "departments.name": "name",
        "users.id": "user_id", "users.department_id": "department_ids", "users.mobile": "mobile",
        "users.email": "email", "users.name": "name",
    })
    if kind not in FEISHU_DEPARTMENT_ID_TYPES:
        imp.violations.append(FieldViolation(
            "department_id_type", "应为 open_department_id 或 department_id",
            "must be open_department_id or department_id"))
        return imp
    departments = _items(payload, "departments")
    has_root = any(ident(raw.get(kind)) == FEISHU_ROOT for _, raw in departments)

    def dept(value: Any) -> str:
        text = ident(value)
        return "" if text == FEISHU_ROOT and not has_root else text

    left: set[str] = set()
    for i, raw in _items(payload, "users"):
        uid = ident(raw.get("user_id"))
        path = f"users[{i}]"
        gone = _flag(raw, "is_resigned") or _flag(raw, "is_exited")
        if gone:
            left.add(uid)
        orders = _list(raw.get("orders"))
        primary = next((dept(o.get("department_id")) for o in orders
                        if isinstance(o, Mapping) and o.get("is_primary_dept") is True), "")
        depts = [d for d in (dept(v) for v in _ids(raw.get("department_ids"))) if d]
        imp.users.append(OrgUser(
            id=uid, name=_text(raw.get("name")),
            email=_text(raw.get("email")) or _text(raw.get("enterprise_email")),
            mobile=_mobile(raw, path, imp), department_id=primary or (depts[0] if depts else ""), left=gone,
            given=_given(raw, _FEISHU_GIVEN),
        ))
        imp.user_paths.append(path)
    for i, raw in departments:
        if _flag(raw, "is_deleted"):
            imp.warnings.append(
                FieldViolation(f"departments[{i}]", "部门已删除，未导入", "deleted department: not imported")
            )
            continue
        leaders = _list(raw.get("leaders"))
        ranked = sorted((entry for entry in leaders if isinstance(entry, Mapping)),
                        key=lambda entry: 0 if entry.get("leaderType") in (1, "1") else 1)
        managers = _ids(raw.get("leader_user_id")) + [ident(entry.get("leaderID")) for entry in ranked]
        did = ident(raw.get(kind))
        parent = "" if did == FEISHU_ROOT else dept(raw.get("parent_department_id"))
        imp.departments.append(OrgDepartment(
            id=did, name=_text(raw.get("name")), parent_id=parent, manager_id=_first_not_left(managers, left),
        ))
        imp.department_paths.append(f"departments[{i}]")
    imp.left = [u.id for u in imp.users if u.left]
    _check_ids(imp, kind, "user_id")
    return imp
