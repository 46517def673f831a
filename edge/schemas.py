"""Request and response models of the public contract, so ``/openapi.json`` describes all of it.

Money fields accept a JSON string or number and are passed on as an exact decimal string (the
edge parses JSON numbers as ``Decimal``, never ``float``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

# ---- shared types ----


def parse_money(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PydanticCustomError("money_type", "amount must be a number or a decimal string")
    try:
        # float only reaches here when the app is used without the Decimal JSON hook.
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise PydanticCustomError("money_parsing", "amount is not a valid decimal number") from None
    if not number.is_finite():
        raise PydanticCustomError("money_parsing", "amount is not a valid decimal number")
    if number < 0:
        raise PydanticCustomError("money_negative", "amount must not be negative")
    if number == 0:
        number = abs(number)  # "-0" -> "0"
    return format(number, "f")


Money = Annotated[
    str,
    BeforeValidator(parse_money),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d+)?$"}, {"type": "number", "minimum": 0}],
            "description": "Amount in CNY, >= 0; kept exactly as a decimal string.",
            "examples": ["12345.60"],
        }
    ),
]


def _to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return format(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), "f")
    return value


NumberText = Annotated[
    str,
    BeforeValidator(_to_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}]}),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class OpenModel(BaseModel):
    """A response object that may carry more keys than the ones listed."""

    model_config = ConfigDict(extra="allow")


# ---- errors ----


class ErrorDetail(Model):
    field: str
    message: str


class ErrorInfo(Model):
    code: str = Field(description="snake_case error code")
    message: str = Field(description="zh-CN by default, English with Accept-Language: en")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(Model):
    error: ErrorInfo


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        401: "Missing or invalid bearer token",
        403: "Not allowed",
        404: "Unknown, or not visible to the caller",
        409: "Conflict with the current state",
        422: "Validation failed (details carry field paths)",
    }.items()
}

# ---- identity / org ----


class TokenResponse(Model):
    token: str


class DepartmentIn(Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    parent_id: str | None = None
    manager_id: str | None = None


class UserIn(Model):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    email: str | None = None
    mobile: str | None = None
    department_id: str | None = None
    roles: list[str] = Field(default_factory=list)
    region: str | None = None


class OrgIn(Model):
    departments: list[DepartmentIn] = Field(default_factory=list)
    users: list[UserIn] = Field(default_factory=list)


class OrgOut(Model):
    departments: int
    users: int


# ---- forms ----

FieldType = Literal[
    "text",
    "textarea",
    "number",
    "money",
    "date",
    "select",
    "multiselect",
    "phone",
    "email",
    "uscc",
    "user",
    "department",
    "attachment",
]


class FormFieldIn(Model):
    key: str = Field(min_length=1)
    label: str = Field(min_length=1)
    type: FieldType
    required: bool = False
    options: list[NumberText] = Field(default_factory=list)
    min: NumberText | None = None
    max: NumberText | None = None
    min_length: int | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    pattern: str | None = None
    read_roles: list[str] = Field(default_factory=list)
    write_roles: list[str] = Field(default_factory=list)


class FormIn(Model):
    title: str = Field(min_length=1)
    fields: list[FormFieldIn] = Field(default_factory=list)


class FormFieldOut(OpenModel):
    key: str
    label: str
    type: str
    required: bool = False
    options: list[str] = Field(default_factory=list)
    min: str | None = None
    max: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    read_roles: list[str] = Field(default_factory=list)
    write_roles: list[str] = Field(default_factory=list)


class FormOut(OpenModel):
    key: str
    title: str
    version: int
    fields: list[FormFieldOut]
    created_at: str | None = None


class KeyVersion(Model):
    key: str
    version: int


# ---- approval policies ----


class ApproversIn(Model):
    type: Literal["user", "role", "manager_of_submitter"]
    user_id: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> ApproversIn:
        if self.type == "user" and not self.user_id:
            raise PydanticCustomError(
                "approver_incomplete", "approvers of type user need user_id", {"type": "user", "field": "user_id"}
            )
        if self.type == "role" and not self.role:
            raise PydanticCustomError(
                "approver_incomplete", "approvers of type role need role", {"type": "role", "field": "role"}
            )
        return self


class PolicyStepIn(Model):
    name: str = Field(min_length=1)
    when: str | None = Field(default=None, description="CEL over `project` and `submitter`; default true")
    approvers: ApproversIn
    mode: Literal["any", "all"] = "any"
    sla: str | None = Field(default=None, description="e.g. 30s, 24h, 3d, 8wh (working hours)")
    escalate_to: ApproversIn | None = None
    on_timeout: Literal["escalate", "approve", "reject"] | None = None


class PolicyIn(Model):
    form_key: str = Field(min_length=1)
    steps: list[PolicyStepIn] = Field(min_length=1)


class SimulatedStep(Model):
    name: str
    mode: str
    approvers: list[str]


class SimulateOut(Model):
    steps: list[SimulatedStep]


# ---- projects ----

ProjectStatus = Literal["draft", "pending_approval", "active", "closed", "returned", "rejected", "cancelled"]


# Project bodies are checked for JSON types only; the registry validates their content so that
# every violation (core fields and form fields alike) is reported at once, with its field path.
ProjectMoney = Annotated[
    str,
    BeforeValidator(_to_text),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "number", "minimum": 0}],
            "description": "Amount in CNY, >= 0, at most 2 decimal places; kept exactly as a decimal string.",
            "examples": ["12345.60"],
        }
    ),
]
IsoDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date", "examples": ["2026-12-01"]})]


class CustomerIn(Model):
    name: str = Field(default="", json_schema_extra={"minLength": 1})
    uscc: str | None = None
    contact: str | None = None
    phone: str | None = None


class ProjectIn(Model):
    form_key: str = Field(default="", json_schema_extra={"minLength": 1})
    name: str = Field(default="", json_schema_extra={"minLength": 1})
    customer: CustomerIn = Field(default_factory=CustomerIn)
    amount: ProjectMoney = Field(default="")
    region: str | None = None
    business_line: str | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class ProjectCreate(ProjectIn):
    submit: bool = Field(default=False, description="Submit for approval at once")


class SimulateIn(ProjectIn):
    form_key: str = ""  # the policy names its form
    submitter_id: str | None = None


class ProjectCreated(Model):
    id: str
    code: str
    status: ProjectStatus


class CustomerOut(Model):
    name: str
    uscc: str | None = None
    contact: str | None = None
    phone: str | None = None


class ConflictOut(Model):
    project_id: str
    reason: str


class DecisionOut(Model):
    user_id: str
    action: str
    comment: str = ""
    at: str | None = None
    channel: str | None = None
    auto: bool = False


class StepOut(Model):
    name: str
    mode: str | None = None
    status: Literal["waiting", "pending", "approved", "rejected", "returned", "skipped"] | str
    approvers: list[str]
    decisions: list[DecisionOut]


class ApprovalOut(Model):
    status: str | None = None
    policy_key: str | None = None
    policy_version: int | None = None
    steps: list[StepOut] = Field(default_factory=list)


class HistoryOut(OpenModel):
    at: str | None
    actor: str
    event: str


class ProjectSummary(OpenModel):
    id: str
    code: str
    name: str
    status: ProjectStatus
    amount: str = Field(description="Exact decimal string, CNY")
    owner_id: str
    department_id: str | None = None
    customer: CustomerOut
    region: str | None = None
    business_line: str | None = None
    form_key: str
    created_at: str | None = None
    updated_at: str | None = None


class ProjectOut(ProjectSummary):
    start_date: str | None = None
    end_date: str | None = None
    fields: dict[str, Any]
    form_version: int
    version: int
    conflicts: list[ConflictOut]
    approval: ApprovalOut
    history: list[HistoryOut]


class ProjectPage(Model):
    items: list[ProjectSummary]
    next_cursor: str | None = Field(description="null on the last page")


# ---- approving / inbox ----


class TodoOut(Model):
    id: str
    project_id: str
    step: str
    due_at: str | None = None


class TodoList(Model):
    items: list[TodoOut]


DecisionAction = Literal["approve", "reject", "return", "transfer", "add_approver"]


class DecisionIn(Model):
    action: DecisionAction
    comment: str = ""
    to_user_id: str | None = None
    position: Literal["before", "after", "parallel"] = "parallel"


class DecisionResultOut(Model):
    project_id: str
    status: ProjectStatus


class NotificationOut(Model):
    id: str
    kind: str
    title: str
    body: str
    project_id: str | None = None
    action_url: str | None = None
    created_at: str | None = None
    read: bool = False


class NotificationList(Model):
    items: list[NotificationOut]
    next_cursor: str | None = None


# ---- reports ----


class ProjectHealthOut(Model):
    id: str
    code: str = ""
    name: str = ""
    status: str = ""
    amount: str = "0"
    health: Literal["green", "amber", "red"] | str
    reasons: list[str] = Field(default_factory=list)


class PortfolioOut(Model):
    by_status: dict[str, int]
    total_amount: str
    overdue_tasks: int
    projects: list[ProjectHealthOut]


# ---- health ----


class HealthOut(Model):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str]
    down: list[str] = Field(default_factory=list)
