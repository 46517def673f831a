"""Request and response models of the directory for people pickers and of the token views
(the admin's list of every token, a user's own new token)."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from edge.schemas import Model
from edge.schemas_tokens import SCOPE_DOC, TokenOut

CONTACT_DOC = "Only for admins, the user themselves and managers of the user's department (or above); else null"


class DepartmentRef(Model):
    id: str
    name: str


class PersonRef(Model):
    id: str
    name: str = Field(description="Empty when the manager is not a known user")
    left: bool = Field(default=False, description="Left the organisation")


class DirectoryUserOut(Model):
    """A person as a picker shows them; contact fields only for those who may reach them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "zhangsan", "name": "张三", "department": {"id": "sales", "name": "销售部"}, "roles": ["sales"],
        "left": False, "contact_visible": True, "email": "zhangsan@example.com", "mobile": "13800138000",
        "region": "华东",
    }]})

    id: str
    name: str
    department: DepartmentRef | None = Field(default=None, description="Null when in no department")
    roles: list[str]
    left: bool = Field(description="Left the organisation (shown to admins who ask, and by id)")
    contact_visible: bool = Field(description="Whether e-mail, mobile and region are shown to this caller")
    email: str | None = Field(default=None, description=CONTACT_DOC)
    mobile: str | None = Field(default=None, description=CONTACT_DOC)
    region: str | None = Field(default=None, description=CONTACT_DOC)


class UserPage(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"id": "zhangsan", "name": "张三", "department": {"id": "sales", "name": "销售部"},
                   "roles": ["sales"], "left": False, "contact_visible": False, "email": None, "mobile": None,
                   "region": None}],
        "next_cursor": None,
    }]})

    items: list[DirectoryUserOut]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next page; null on the last")


class OrgNode(Model):
    id: str
    name: str
    parent_id: str | None = None
    manager: PersonRef | None = None
    member_count: int = Field(description="People in this department itself")
    total_count: int = Field(description="People in it and every department below it")
    children: list[OrgNode] = Field(default_factory=list, description="Sub-departments, by the pinyin of their names")


class OrgTreeOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "departments": [{
            "id": "hq", "name": "总部", "parent_id": None, "manager": {"id": "ceo", "name": "王总", "left": False},
            "member_count": 1, "total_count": 3,
            "children": [{"id": "sales", "name": "销售部", "parent_id": "hq",
                          "manager": {"id": "boss", "name": "李经理", "left": False}, "member_count": 2,
                          "total_count": 2, "children": []}],
        }],
        "department_count": 2, "unassigned_count": 0,
    }]})

    departments: list[OrgNode] = Field(description="Top-level departments, each with its sub-departments")
    department_count: int
    unassigned_count: int = Field(description="People in no department")


class AdminTokenOut(TokenOut):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "9f1c2b7e4a3d4c5b8e6f0a1d2c3b4a59", "name": "CRM 同步", "scopes": ["crm:write"],
        "created_at": "2026-11-01T08:00:00Z", "expires_at": "2027-01-30T08:00:00Z",
        "last_used_at": "2026-11-30T02:13:00Z", "user_id": "crm-bot", "user_name": "CRM 集成", "expired": False}]})

    user_id: str
    user_name: str = Field(description="The holder's name (empty if the user is unknown)")
    expired: bool = Field(description="Past `expires_at` (listed only with include_expired=true)")


class AdminTokenPage(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "items": [{"id": "9f1c…", "name": "CRM 同步", "scopes": ["crm:write"], "created_at": "2026-11-01T08:00:00Z",
                   "expires_at": "2027-01-30T08:00:00Z", "last_used_at": "2026-11-30T02:13:00Z",
                   "user_id": "crm-bot", "user_name": "CRM 集成", "expired": False}],
        "next_cursor": None,
    }]})

    items: list[AdminTokenOut]
    next_cursor: str | None = None


class OwnTokenIn(Model):
    """Body of `POST /me/tokens`: a token the caller creates for themselves."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"name": "BI 报表导出", "scopes": ["reports:read"], "expires_in_days": 30}]})

    name: str = Field(default="", description="What the token is for (required, at most 100 characters)",
                      json_schema_extra={"minLength": 1})
    scopes: list[str] | None = Field(
        default=None, description=f"Omitted = every scope the caller may have. {SCOPE_DOC}. crm:write and "
        "org:sync need the integrator (or admin) role; with a token, only scopes that token has")
    expires_in_days: int | None = Field(
        default=None, description="Lifetime, 1–365 days (default 90); with a token, not past that token's expiry")
