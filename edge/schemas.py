"""Request and response models of the public contract, so ``/openapi.json`` describes all of it.

Money fields accept a JSON string or number and are passed on as an exact decimal string (the
edge parses JSON numbers as ``Decimal``, never ``float``)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, model_validator
from pydantic_core import PydanticCustomError

# ---- shared types ----

# Upper bounds of integers that travel as int32 to the services (a bigger one would not fit: a 422
# here rather than a failure there): counts, indexes and versions; periods in days (100 years).
INT32_MAX = 2**31 - 1
MAX_COUNT = 1_000_000
MAX_DAYS = 36_500


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
    if number and not -40 <= number.adjusted() <= 18:  # "1e999999999" would be written out as 1 GB
        raise PydanticCustomError("money_range", "amount out of range")
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
        413: "Request body over the route's size cap",
        422: "Validation failed (details carry field paths)",
        429: "Rate limited (see the Retry-After header)",
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
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "departments": [
            {"id": "hq", "name": "总部", "parent_id": None, "manager_id": "wangzong"},
            {"id": "sales", "name": "销售部", "parent_id": "hq", "manager_id": "lijingli"},
        ],
        "users": [
            {"id": "wangzong", "name": "王总", "email": "wang@example.com", "mobile": "13900139000",
             "department_id": "hq", "roles": ["manager"], "region": "华东"},
            {"id": "lijingli", "name": "李经理", "email": "li@example.com", "mobile": "13700137000",
             "department_id": "sales", "roles": ["manager"], "region": "华东"},
            {"id": "zhangsan", "name": "张三", "email": "zhangsan@example.com", "mobile": "13800138000",
             "department_id": "sales", "roles": ["sales"], "region": "华东"},
        ],
    }]})

    departments: list[DepartmentIn] = Field(default_factory=list)
    users: list[UserIn] = Field(default_factory=list)


class OrgOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [{"departments": 2, "users": 3}]})

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
    min_length: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    max_length: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    pattern: str | None = None
    read_roles: list[str] = Field(default_factory=list)
    write_roles: list[str] = Field(default_factory=list)
    required_when: str | None = Field(default=None, description="CEL over `fields` and `project`: required when true")
    visible_when: str | None = Field(default=None, description="CEL: the field is shown (and kept) only when true")
    default: Any = Field(default=None, description="Used when a submission leaves the field empty")
    accept: list[str] = Field(default_factory=list, description="attachment: MIME types or extensions, e.g. .pdf")
    max_size: int | None = Field(default=None, gt=0, le=2**53, description="attachment: size cap in bytes")


class FormRuleIn(Model):
    expr: str = Field(min_length=1, description="CEL that must hold, e.g. `fields.end >= fields.start`")
    field: str = Field(default="", description="Path reported when it does not, e.g. fields.end")
    message: str = Field(min_length=1)
    message_en: str = ""


class FormSettingsIn(Model):
    conflict_policy: Literal["warn", "block"] = Field(
        default="warn", description="warn: collisions (撞单) are stored and shown; block: refused with 409"
    )
    protection_days: int = Field(
        default=0, ge=0, le=MAX_DAYS, description="Protection period (保护期) after approval, 0 = none"
    )
    protection_extend_days: int = Field(
        default=0, ge=0, le=MAX_DAYS, description="Each follow-up extends to now + this"
    )
    protection_max_days: int = Field(
        default=0, ge=0, le=MAX_DAYS, description="Hard cap in days from the start"
    )
    protection_remind_days: int = Field(
        default=0, ge=0, le=MAX_DAYS, description="Remind the owner this many days before"
    )


class CoreFieldIn(Model):
    read_roles: list[str] = Field(description="Only holders of one of these roles (and the owner, admins) read it")


class FormIn(Model):
    title: str = Field(min_length=1)
    fields: list[FormFieldIn] = Field(default_factory=list)
    settings: FormSettingsIn = Field(default_factory=FormSettingsIn)
    rules: list[FormRuleIn] = Field(default_factory=list, description="Cross-field checks in CEL")
    core_fields: dict[str, CoreFieldIn] = Field(
        default_factory=dict,
        description="Read restrictions of the fixed project fields, keyed by amount, customer, customer.uscc, "
        "customer.contact, customer.phone, region, business_line, start_date or end_date; hidden exactly like "
        "form fields with read_roles (absent/null in responses, exports, approvals, notifications, reports)",
    )


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
    required_when: str | None = Field(
        default=None, description="CEL over `fields` and `project`: required when true (absent when unset)"
    )
    visible_when: str | None = Field(
        default=None, description="CEL: the field is shown (and kept) only when true (absent when unset)"
    )
    default: Any = Field(default=None, description="Used when a submission leaves the field empty (absent when unset)")
    accept: list[str] | None = Field(
        default=None, description="attachment: MIME types or extensions, e.g. .pdf (absent when unset)"
    )
    max_size: int | None = Field(default=None, description="attachment: size cap in bytes (absent when unset)")


class FormRuleOut(OpenModel):
    expr: str = Field(description="CEL that must hold")
    field: str = Field(default="", description="Path reported when it does not, e.g. fields.end")
    message: str = ""
    message_en: str = ""


class FormSettingsOut(OpenModel):
    conflict_policy: Literal["warn", "block"] | str = Field(
        default="warn", description="warn: collisions (撞单) are stored and shown; block: refused with 409"
    )
    protection_days: int = 0
    protection_extend_days: int = 0
    protection_max_days: int = 0
    protection_remind_days: int = 0


class FormOut(OpenModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "key": "standard", "title": "标准报备", "version": 3, "created_at": "2026-11-02T08:00:00Z",
        "fields": [
            {"key": "bid_type", "label": "招标方式", "type": "select", "required": True,
             "options": ["公开招标", "邀请招标", "单一来源"], "read_roles": [], "write_roles": []},
            {"key": "tender_no", "label": "招标编号", "type": "text", "required": False, "options": [],
             "read_roles": [], "write_roles": [], "required_when": 'fields.bid_type == "公开招标"',
             "visible_when": 'fields.bid_type != "单一来源"'},
            {"key": "proposal", "label": "方案书", "type": "attachment", "required": False, "options": [],
             "read_roles": [], "write_roles": [], "accept": [".pdf", ".docx"], "max_size": 10485760},
            {"key": "priority", "label": "优先级", "type": "select", "options": ["高", "中", "低"],
             "read_roles": [], "write_roles": [], "default": "中"},
        ],
        "settings": {"conflict_policy": "warn", "protection_days": 90, "protection_extend_days": 30,
                     "protection_max_days": 180, "protection_remind_days": 7},
        "rules": [{"expr": "fields.end >= fields.start", "field": "fields.end", "message": "结束日期不能早于开始日期",
                   "message_en": "end must not be before start"}],
        "core_fields": {"amount": {"read_roles": ["finance"]}},
    }]})

    key: str
    title: str
    version: int
    fields: list[FormFieldOut]
    created_at: str | None = None
    settings: FormSettingsOut = Field(default_factory=FormSettingsOut)
    rules: list[FormRuleOut] = Field(default_factory=list, description="Cross-field checks in CEL")
    core_fields: dict[str, dict[str, Any]] = Field(default_factory=dict)


class KeyVersion(Model):
    key: str
    version: int


# ---- approval policies ----


class ApproversIn(Model):
    """Who approves. ``role`` may be scoped to the submitter's department (the nearest one up the
    tree with a holder) or region; ``manager_level`` is the N-th manager up; ``managers_chain``
    the managers up to ``level`` levels and/or up to the first holding ``until_role``;
    ``department_head`` the manager of ``department_id``."""

    type: Literal["user", "role", "manager_of_submitter", "manager_level", "managers_chain", "department_head"]
    user_id: str | None = None
    role: str | None = None
    scope: Literal["department", "region"] | None = None
    level: int | None = Field(default=None, ge=0, le=50)
    until_role: str | None = None
    department_id: str | None = None

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


class LadderLevelIn(Model):
    after: str = Field(description="From the step's opening, e.g. 4h, 2d, 8wh, 2wd")
    action: Literal["remind", "escalate", "approve", "reject"] = "escalate"
    to: ApproversIn | None = None


class PolicyStepIn(Model):
    name: str = Field(min_length=1)
    when: str | None = Field(
        default=None,
        description="CEL over `project` (amount, region, business_line, fields, conflicts, conflict_count) and "
        "`submitter` (id, department_id, roles, region); default true",
    )
    approvers: ApproversIn
    mode: Literal["any", "all", "sequential", "ratio"] = Field(
        default="any", description="any 或签 · all 会签 · sequential 依次 · ratio (min_approvals or ratio)"
    )
    min_approvals: int | None = Field(default=None, ge=1, le=MAX_COUNT, description="ratio mode: approvals needed")
    ratio: float | None = Field(default=None, gt=0, le=1, description="ratio mode: share of approvers needed")
    sla: str | None = Field(
        default=None, description="e.g. 30s, 24h, 3d, 8wh (working hours), 2wd (working days; mainland calendar)"
    )
    escalate_to: ApproversIn | None = None
    on_timeout: Literal["escalate", "approve", "reject"] | None = None
    remind_at: float | None = Field(default=None, gt=0, lt=1, description="Reminder at this share of the SLA")
    escalation: list[LadderLevelIn] = Field(default_factory=list, description="Escalation ladder")
    cc: list[ApproversIn] = Field(default_factory=list, description="Copied (抄送) when the step opens")


class PolicyIn(Model):
    form_key: str = Field(min_length=1)
    steps: list[PolicyStepIn] = Field(
        default_factory=list, description="At least one step, unless `no_approval` is true (then none)"
    )
    default_steps: list[PolicyStepIn] = Field(
        default_factory=list, description="Default branch: used when no step's `when` holds"
    )
    on_no_approver: Literal["skip", "admin", "block"] = "skip"
    approval_admin: str | None = None
    on_submitter_is_approver: Literal["skip_to_manager", "self_approve"] | None = None
    auto_approve_consecutive: bool = True
    no_approval: bool = Field(
        default=False,
        description="Explicitly no approval: projects of the form are approved on submit (recorded in "
        "their history and the approval's provenance). A form without any policy cannot be submitted.",
    )


class SimulatedStep(OpenModel):
    name: str
    mode: str
    approvers: list[str]


class SimulateOut(Model):
    steps: list[SimulatedStep]


class WhatIfIn(PolicyIn):
    form_key: str = ""  # default: the stored policy's form
    limit: int = Field(default=100, ge=1, le=1000, description="The last N submissions of the form")


class StepApproversChangeOut(Model):
    step: str
    before: list[str]
    after: list[str]


class WhatIfItemOut(Model):
    project_id: str
    added: list[str]
    removed: list[str]
    approvers_changed: list[StepApproversChangeOut]
    before: list[str]
    after: list[str]


class WhatIfOut(Model):
    evaluated: int
    changed: int
    items: list[WhatIfItemOut]


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
    name: str | None = Field(default=None, description="null when the form withholds it from the caller")
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
    on_behalf_of: str | None = None
    target_user_id: str | None = None
    data: dict[str, Any] | None = None


class StepOut(Model):
    name: str
    mode: str | None = None
    status: Literal["waiting", "pending", "approved", "rejected", "returned", "skipped"] | str
    approvers: list[str]
    decisions: list[DecisionOut]
    opened_at: str | None = Field(
        default=None, description="When the step became pending; null while waiting",
        examples=["2026-12-01T01:30:00Z"],
    )
    due_at: str | None = Field(
        default=None, description="When the step's SLA runs out; null without an SLA",
        examples=["2026-12-02T01:30:00Z"],
    )
    sla: str | None = None
    blocked: bool = False
    cc: list[str] = Field(default_factory=list)
    why: dict[str, Any] | None = Field(default=None, description="Provenance: the rule that selected this step")


class CcOut(Model):
    id: str
    project_id: str
    step_index: int
    user_id: str
    by_user_id: str
    created_at: str | None = None
    read_at: str | None = None


class ForecastBasisOut(Model):
    step: str
    level: str = Field(description="Which history the step's lead times came from: `approvers` (same policy, step "
                       "and approvers), `step`, `policy`, `all`, or `overdue` (the open step already waited longer "
                       "than any sample)")
    samples: int


class ForecastOut(Model):
    expected_at: str = Field(description="P50 of the completion time (ISO 8601)")
    low_at: str = Field(description="P10: the 80 % range starts here")
    high_at: str = Field(description="P90: the 80 % range ends here")
    remaining_working_hours: float
    basis: list[ForecastBasisOut] = Field(default_factory=list)


class ApprovalOut(Model):
    status: str | None = None
    policy_key: str | None = None
    policy_version: int | None = None
    no_approval: bool = Field(default=False, description="Approved on submit by an explicit no-approval policy")
    replanned: str | None = Field(
        default=None,
        description="Provenance: why this chain was planned anew on resubmission after a return "
        "(the routing facts changed, e.g. `amount 100000.00 → 900000.00`); null when it resumed or is the first",
    )
    steps: list[StepOut] = Field(default_factory=list)
    inputs: dict[str, Any] | None = Field(default=None, description="Provenance: what the chain was planned from")
    cc: list[CcOut] = Field(default_factory=list)
    actions: list[DecisionOut] = Field(default_factory=list)
    forecast: ForecastOut | None = Field(
        default=None,
        description="While pending: when the approval is expected to be done, from the lead times of earlier "
        "steps on the working calendar (null when decided or nothing to learn from yet)",
    )


class HistoryOut(OpenModel):
    at: str | None
    actor: str
    event: str


class ProjectSummary(OpenModel):
    id: str
    code: str
    name: str
    status: ProjectStatus
    amount: str | None = Field(
        description="Exact decimal string, CNY; null when the form's core_fields withhold it from the caller"
    )
    owner_id: str
    department_id: str | None = None
    customer: CustomerOut
    region: str | None = None
    business_line: str | None = None
    form_key: str
    created_at: str | None = None
    updated_at: str | None = None


class ProtectionOut(Model):
    state: Literal["none", "holder", "protected", "lapsed", "waitlisted", "released"] | str = Field(
        description="holder: first in line, protected once approved; waitlisted: 候补 behind the holder"
    )
    since: str | None = None
    until: str | None = None
    cap: str | None = None
    position: int | None = Field(default=None, description="1-based place in the waitlist")
    holder_project_id: str | None = None
    follow_ups: int = 0


class ProjectOut(ProjectSummary):
    start_date: str | None = None
    end_date: str | None = None
    fields: dict[str, Any]
    form_version: int
    version: int
    conflicts: list[ConflictOut]
    approval: ApprovalOut
    history: list[HistoryOut]
    protection: ProtectionOut | None = None


class ProjectPatch(Model):
    """A partial edit of a draft or returned project; `version` is the one the caller read."""

    version: int = Field(ge=1, le=INT32_MAX, description="Optimistic concurrency: a stale version answers 409")
    name: str | None = None
    customer: dict[str, Any] | None = None
    amount: ProjectMoney | None = None
    region: str | None = None
    business_line: str | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    fields: dict[str, Any] | None = Field(default=None, description="Merged into the fields; null clears one")


class FollowUpIn(Model):
    note: str = Field(description="What happened (visit, call, …); extends the protection period")


class AttachmentOut(Model):
    id: str
    filename: str
    content_type: str
    size: int


class ImportRowErrorOut(Model):
    row: int
    column: str
    field: str
    message: str


class ImportRowChangeOut(Model):
    row: int
    column: str
    field: str
    before: str = Field(description="the cell's text (edit: the project's value)")
    after: str = Field(description="the value used (edit: the new value)")
    message: str
    kind: str = Field(description="normalised (a cell read leniently, e.g. 1,200,000.00 → 1200000.00) or edit "
                                  "(a row with a 项目编号 changes that project)")


class ImportOut(Model):
    rows: int
    created: int
    existing: int
    invalid: int
    dry_run: bool
    errors: list[ImportRowErrorOut]
    project_ids: list[str]
    updated: int = Field(0, description="rows with a 项目编号 that edit their project (to edit, in a dry run)")
    unchanged: int = Field(0, description="rows with a 项目编号 equal to their project")
    changes: list[ImportRowChangeOut] = Field(default_factory=list,
                                              description="the first 20,000 normalisations and edits, by row")
    changes_total: int = Field(0, description="all normalisations and edits, listed or not")


class ImportJobOut(Model):
    id: str
    status: str = Field(description="queued | running | done | failed")
    form_key: str
    dry_run: bool
    skip_invalid: bool
    rows_total: int = Field(description="Data rows in the sheet (0 until the job has read it)")
    rows_checked: int = Field(description="Rows checked so far (first phase: all are checked before any is stored)")
    rows_done: int = Field(description="Rows settled so far: stored, existing or bad (rows_total when done)")
    created: int
    existing: int
    invalid: int
    errors: list[ImportRowErrorOut] = Field(description="Bad cells found so far (the first 2,000)")
    project_ids: list[str] = Field(description="The projects created (complete when done)")
    reason: str = Field(description="Why the job failed (empty otherwise)")
    lifecycles_started: bool = Field(description="The created projects' lifecycle workflows were started")
    created_at: str
    updated_at: str
    finished_at: str | None
    updated: int = Field(0, description="rows with a 项目编号 that edit their project (to edit, in a dry run)")
    unchanged: int = Field(0, description="rows with a 项目编号 equal to their project")
    changes: list[ImportRowChangeOut] = Field(default_factory=list,
                                              description="the first 2,000 normalisations and edits, by row")
    changes_total: int = Field(0, description="all normalisations and edits, listed or not")


class ProjectPage(Model):
    items: list[ProjectSummary]
    next_cursor: str | None = Field(description="null on the last page")


# ---- approving / inbox ----


class TodoChangeDiff(Model):
    field: str
    before: Any = None
    after: Any = None


class TodoChangeOut(Model):
    id: str
    reason: str
    diff: list[TodoChangeDiff]


class TodoOut(Model):
    id: str
    project_id: str
    step: str
    opened_at: str | None = Field(
        default=None, description="Since when the task waits for its approver", examples=["2026-12-01T01:30:00Z"]
    )
    due_at: str | None = Field(default=None, description="SLA due time, if the step has one",
                               examples=["2026-12-02T01:30:00Z"])
    on_behalf_of: str | None = Field(default=None, description="Acting as this approver's delegate")
    purpose: str = Field(default="registration",
                         description="What the task decides: `registration` (the project's registration), "
                                     "`acceptance` (验收 request) or `change` (变更 request)")
    change: TodoChangeOut | None = Field(default=None, description="For a change request: its id, reason and "
                                         "before/after diff (fields the approver may not read left out)")


class TodoList(Model):
    items: list[TodoOut]


DecisionAction = Literal["approve", "reject", "return", "transfer", "add_approver"]


class AttachmentIn(Model):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)


class DecisionIn(Model):
    action: DecisionAction
    comment: str = Field(default="", max_length=2000)
    to_user_id: str | None = None
    position: Literal["before", "after", "parallel"] = "parallel"
    to_step: int | None = Field(
        default=None, ge=0, le=MAX_COUNT, description="return: an earlier step (index); default the submitter"
    )
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class ActionIn(Model):
    comment: str = Field(default="", max_length=2000)


class CommentIn(Model):
    comment: str = Field(min_length=1, max_length=2000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    mentions: list[str] = Field(
        default_factory=list, max_length=20,
        description="User ids @-ed in the comment: each must exist, not have left and be able to see the "
        "project (else 422 naming `mentions[i]`); they get a `mentioned` notification",
    )


class CcIn(Model):
    user_ids: list[str] = Field(min_length=1, max_length=50)
    comment: str = Field(default="", max_length=2000)


class ReassignIn(Model):
    to_user_id: str = Field(min_length=1)
    from_user_id: str | None = None
    step_index: int | None = Field(default=None, ge=0, le=MAX_COUNT, description="Default: the step open now")
    comment: str = Field(default="", max_length=2000)


class ActionResultOut(OpenModel):
    project_id: str
    status: str | None = None


class CcList(Model):
    items: list[CcOut]


class DelegationIn(Model):
    delegate_id: str = Field(min_length=1)
    starts_at: AwareDatetime = Field(description="ISO 8601 with zone")
    ends_at: AwareDatetime = Field(description="ISO 8601 with zone")


class DelegationOut(Model):
    user_id: str
    delegate_id: str | None = None
    starts_at: str | None = None
    ends_at: str | None = None


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
    task_id: str | None = Field(
        default=None, description="The approval task an approval request is about (open /approvals/{task_id}); "
        "absent for other notifications", examples=["7f3c2a9e5b1d4c6e8a0f2b4d6e8f0a1c"],
    )
    created_at: str | None = None
    read: bool = False
    read_at: str | None = Field(default=None, description="When the caller marked it read; absent while unread")


class NotificationList(Model):
    items: list[NotificationOut]
    next_cursor: str | None = None
    unread_count: int = Field(default=0, description="All of the caller's unread notifications, not only this page")


class NotificationReadAll(Model):
    marked: int = Field(description="How many were unread and are now read")
    unread_count: int = 0


# ---- reports ----


class ProjectHealthOut(Model):
    id: str
    code: str = ""
    name: str = ""
    status: str = ""
    amount: str | None = Field("0", description="null when the form withholds the amount from the caller")
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
