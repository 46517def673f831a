import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Filters(_message.Message):
    __slots__ = ("department_id", "region", "business_line", "owner_id", "status", "form_key", "period_from", "period_to")
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FROM_FIELD_NUMBER: _ClassVar[int]
    PERIOD_TO_FIELD_NUMBER: _ClassVar[int]
    department_id: str
    region: str
    business_line: str
    owner_id: str
    status: str
    form_key: str
    period_from: _timestamp_pb2.Timestamp
    period_to: _timestamp_pb2.Timestamp
    def __init__(self, department_id: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., owner_id: _Optional[str] = ..., status: _Optional[str] = ..., form_key: _Optional[str] = ..., period_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("key", "label", "kind")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    kind: str
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class Row(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class Table(_message.Message):
    __slots__ = ("title", "columns", "rows")
    TITLE_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    title: str
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    rows: _containers.RepeatedCompositeFieldContainer[Row]
    def __init__(self, title: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., rows: _Optional[_Iterable[_Union[Row, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("event_id", "project_id", "at", "actor_id", "project_created", "project_submitted", "project_approved", "project_rejected", "project_returned", "project_cancelled", "project_closed", "project_edited", "task_created", "task_updated", "cost_recorded", "approval_step_opened", "approval_decided", "project_reviewed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CREATED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_APPROVED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_REJECTED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_RETURNED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CLOSED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_EDITED_FIELD_NUMBER: _ClassVar[int]
    TASK_CREATED_FIELD_NUMBER: _ClassVar[int]
    TASK_UPDATED_FIELD_NUMBER: _ClassVar[int]
    COST_RECORDED_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_STEP_OPENED_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_DECIDED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_REVIEWED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    project_id: str
    at: _timestamp_pb2.Timestamp
    actor_id: str
    project_created: ProjectFacts
    project_submitted: ProjectFacts
    project_approved: ProjectFacts
    project_rejected: ProjectFacts
    project_returned: ProjectFacts
    project_cancelled: ProjectFacts
    project_closed: ProjectFacts
    project_edited: ProjectFacts
    task_created: TaskChanged
    task_updated: TaskChanged
    cost_recorded: CostRecorded
    approval_step_opened: ApprovalStepOpened
    approval_decided: ApprovalDecided
    project_reviewed: ProjectReviewed
    def __init__(self, event_id: _Optional[str] = ..., project_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ..., project_created: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_submitted: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_approved: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_rejected: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_returned: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_cancelled: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_closed: _Optional[_Union[ProjectFacts, _Mapping]] = ..., project_edited: _Optional[_Union[ProjectFacts, _Mapping]] = ..., task_created: _Optional[_Union[TaskChanged, _Mapping]] = ..., task_updated: _Optional[_Union[TaskChanged, _Mapping]] = ..., cost_recorded: _Optional[_Union[CostRecorded, _Mapping]] = ..., approval_step_opened: _Optional[_Union[ApprovalStepOpened, _Mapping]] = ..., approval_decided: _Optional[_Union[ApprovalDecided, _Mapping]] = ..., project_reviewed: _Optional[_Union[ProjectReviewed, _Mapping]] = ...) -> None: ...

class ProjectFacts(_message.Message):
    __slots__ = ("code", "name", "status", "amount", "owner_id", "department_id", "region", "business_line", "form_key", "conflict_count", "comment", "channel")
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_COUNT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    code: str
    name: str
    status: str
    amount: str
    owner_id: str
    department_id: str
    region: str
    business_line: str
    form_key: str
    conflict_count: int
    comment: str
    channel: str
    def __init__(self, code: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[str] = ..., amount: _Optional[str] = ..., owner_id: _Optional[str] = ..., department_id: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., form_key: _Optional[str] = ..., conflict_count: _Optional[int] = ..., comment: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class TaskChanged(_message.Message):
    __slots__ = ("task_id", "project_id", "name", "assignee_id", "status", "start", "due", "finish", "baseline_finish", "estimate_hours", "progress", "milestone", "delay_reason", "done_at")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FINISH_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_HOURS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_FIELD_NUMBER: _ClassVar[int]
    DONE_AT_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    project_id: str
    name: str
    assignee_id: str
    status: str
    start: str
    due: str
    finish: str
    baseline_finish: str
    estimate_hours: float
    progress: float
    milestone: bool
    delay_reason: str
    done_at: str
    def __init__(self, task_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., assignee_id: _Optional[str] = ..., status: _Optional[str] = ..., start: _Optional[str] = ..., due: _Optional[str] = ..., finish: _Optional[str] = ..., baseline_finish: _Optional[str] = ..., estimate_hours: _Optional[float] = ..., progress: _Optional[float] = ..., milestone: _Optional[bool] = ..., delay_reason: _Optional[str] = ..., done_at: _Optional[str] = ...) -> None: ...

class CostRecorded(_message.Message):
    __slots__ = ("cost_id", "task_id", "project_id", "kind", "amount", "at")
    COST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    cost_id: str
    task_id: str
    project_id: str
    kind: str
    amount: str
    at: str
    def __init__(self, cost_id: _Optional[str] = ..., task_id: _Optional[str] = ..., project_id: _Optional[str] = ..., kind: _Optional[str] = ..., amount: _Optional[str] = ..., at: _Optional[str] = ...) -> None: ...

class ApprovalStepOpened(_message.Message):
    __slots__ = ("instance_id", "step_index", "step", "approvers", "opened_at")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    step_index: int
    step: str
    approvers: _containers.RepeatedScalarFieldContainer[str]
    opened_at: str
    def __init__(self, instance_id: _Optional[str] = ..., step_index: _Optional[int] = ..., step: _Optional[str] = ..., approvers: _Optional[_Iterable[str]] = ..., opened_at: _Optional[str] = ...) -> None: ...

class ApprovalDecided(_message.Message):
    __slots__ = ("instance_id", "step_index", "step", "user_id", "action", "channel", "at", "on_behalf_of")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    step_index: int
    step: str
    user_id: str
    action: str
    channel: str
    at: str
    on_behalf_of: str
    def __init__(self, instance_id: _Optional[str] = ..., step_index: _Optional[int] = ..., step: _Optional[str] = ..., user_id: _Optional[str] = ..., action: _Optional[str] = ..., channel: _Optional[str] = ..., at: _Optional[str] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class ProjectReviewed(_message.Message):
    __slots__ = ("outcome", "reason", "lessons", "tags", "delay_summary", "project_id")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DELAY_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    reason: str
    lessons: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    delay_summary: str
    project_id: str
    def __init__(self, outcome: _Optional[str] = ..., reason: _Optional[str] = ..., lessons: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., delay_summary: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class IngestEventRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class IngestEventResponse(_message.Message):
    __slots__ = ("applied",)
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    def __init__(self, applied: _Optional[bool] = ...) -> None: ...

class IngestEventsRequest(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class IngestEventsResponse(_message.Message):
    __slots__ = ("applied", "duplicates")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    applied: int
    duplicates: int
    def __init__(self, applied: _Optional[int] = ..., duplicates: _Optional[int] = ...) -> None: ...

class PortfolioRequest(_message.Message):
    __slots__ = ("all", "project_ids", "filters", "limit", "offset", "now", "withheld")
    ALL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    all: bool
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    filters: Filters
    limit: int
    offset: int
    now: _timestamp_pb2.Timestamp
    withheld: _containers.RepeatedCompositeFieldContainer[Withheld]
    def __init__(self, all: _Optional[bool] = ..., project_ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[Filters, _Mapping]] = ..., limit: _Optional[int] = ..., offset: _Optional[int] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withheld: _Optional[_Iterable[_Union[Withheld, _Mapping]]] = ...) -> None: ...

class Withheld(_message.Message):
    __slots__ = ("project_id", "paths")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., paths: _Optional[_Iterable[str]] = ...) -> None: ...

class ProjectHealth(_message.Message):
    __slots__ = ("id", "code", "name", "status", "amount", "health", "reasons", "owner_id", "department_id", "region", "business_line", "form_key", "spi", "cpi", "open_tasks", "overdue_tasks", "milestone_slip_days", "planned_value", "earned_value", "actual_cost", "registered_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    SPI_FIELD_NUMBER: _ClassVar[int]
    CPI_FIELD_NUMBER: _ClassVar[int]
    OPEN_TASKS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_TASKS_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_SLIP_DAYS_FIELD_NUMBER: _ClassVar[int]
    PLANNED_VALUE_FIELD_NUMBER: _ClassVar[int]
    EARNED_VALUE_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_COST_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    name: str
    status: str
    amount: str
    health: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    owner_id: str
    department_id: str
    region: str
    business_line: str
    form_key: str
    spi: float
    cpi: float
    open_tasks: int
    overdue_tasks: int
    milestone_slip_days: int
    planned_value: str
    earned_value: str
    actual_cost: str
    registered_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[str] = ..., amount: _Optional[str] = ..., health: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ..., owner_id: _Optional[str] = ..., department_id: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., form_key: _Optional[str] = ..., spi: _Optional[float] = ..., cpi: _Optional[float] = ..., open_tasks: _Optional[int] = ..., overdue_tasks: _Optional[int] = ..., milestone_slip_days: _Optional[int] = ..., planned_value: _Optional[str] = ..., earned_value: _Optional[str] = ..., actual_cost: _Optional[str] = ..., registered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PortfolioResponse(_message.Message):
    __slots__ = ("by_status", "total_amount", "overdue_tasks", "projects", "contracted_amount", "project_count", "active_tasks", "approvals_waiting", "approvals_waiting_avg_hours", "approvals_waiting_max_hours", "by_health")
    class ByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByHealthEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_TASKS_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    CONTRACTED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_TASKS_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_WAITING_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_WAITING_AVG_HOURS_FIELD_NUMBER: _ClassVar[int]
    APPROVALS_WAITING_MAX_HOURS_FIELD_NUMBER: _ClassVar[int]
    BY_HEALTH_FIELD_NUMBER: _ClassVar[int]
    by_status: _containers.ScalarMap[str, int]
    total_amount: str
    overdue_tasks: int
    projects: _containers.RepeatedCompositeFieldContainer[ProjectHealth]
    contracted_amount: str
    project_count: int
    active_tasks: int
    approvals_waiting: int
    approvals_waiting_avg_hours: float
    approvals_waiting_max_hours: float
    by_health: _containers.ScalarMap[str, int]
    def __init__(self, by_status: _Optional[_Mapping[str, int]] = ..., total_amount: _Optional[str] = ..., overdue_tasks: _Optional[int] = ..., projects: _Optional[_Iterable[_Union[ProjectHealth, _Mapping]]] = ..., contracted_amount: _Optional[str] = ..., project_count: _Optional[int] = ..., active_tasks: _Optional[int] = ..., approvals_waiting: _Optional[int] = ..., approvals_waiting_avg_hours: _Optional[float] = ..., approvals_waiting_max_hours: _Optional[float] = ..., by_health: _Optional[_Mapping[str, int]] = ...) -> None: ...

class ProjectReportRequest(_message.Message):
    __slots__ = ("project_id", "now")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class BurndownPoint(_message.Message):
    __slots__ = ("day", "remaining_hours", "ideal_hours")
    DAY_FIELD_NUMBER: _ClassVar[int]
    REMAINING_HOURS_FIELD_NUMBER: _ClassVar[int]
    IDEAL_HOURS_FIELD_NUMBER: _ClassVar[int]
    day: str
    remaining_hours: float
    ideal_hours: float
    def __init__(self, day: _Optional[str] = ..., remaining_hours: _Optional[float] = ..., ideal_hours: _Optional[float] = ...) -> None: ...

class ProjectReportResponse(_message.Message):
    __slots__ = ("health", "burndown", "tasks")
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    BURNDOWN_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    health: ProjectHealth
    burndown: _containers.RepeatedCompositeFieldContainer[BurndownPoint]
    tasks: Table
    def __init__(self, health: _Optional[_Union[ProjectHealth, _Mapping]] = ..., burndown: _Optional[_Iterable[_Union[BurndownPoint, _Mapping]]] = ..., tasks: _Optional[_Union[Table, _Mapping]] = ...) -> None: ...

class AnalyticsRequest(_message.Message):
    __slots__ = ("report", "group_by", "all", "project_ids", "filters", "now", "withheld")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    report: str
    group_by: str
    all: bool
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    filters: Filters
    now: _timestamp_pb2.Timestamp
    withheld: _containers.RepeatedCompositeFieldContainer[Withheld]
    def __init__(self, report: _Optional[str] = ..., group_by: _Optional[str] = ..., all: _Optional[bool] = ..., project_ids: _Optional[_Iterable[str]] = ..., filters: _Optional[_Union[Filters, _Mapping]] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., withheld: _Optional[_Iterable[_Union[Withheld, _Mapping]]] = ...) -> None: ...

class AnalyticsResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: Table
    def __init__(self, table: _Optional[_Union[Table, _Mapping]] = ...) -> None: ...

class Warning(_message.Message):
    __slots__ = ("key", "kind", "project_id", "user_id", "title", "body", "recipient_ids", "raised_at", "notified_at", "cleared_at", "week")
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    RAISED_AT_FIELD_NUMBER: _ClassVar[int]
    NOTIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    CLEARED_AT_FIELD_NUMBER: _ClassVar[int]
    WEEK_FIELD_NUMBER: _ClassVar[int]
    key: str
    kind: str
    project_id: str
    user_id: str
    title: str
    body: str
    recipient_ids: _containers.RepeatedScalarFieldContainer[str]
    raised_at: _timestamp_pb2.Timestamp
    notified_at: _timestamp_pb2.Timestamp
    cleared_at: _timestamp_pb2.Timestamp
    week: str
    def __init__(self, key: _Optional[str] = ..., kind: _Optional[str] = ..., project_id: _Optional[str] = ..., user_id: _Optional[str] = ..., title: _Optional[str] = ..., body: _Optional[str] = ..., recipient_ids: _Optional[_Iterable[str]] = ..., raised_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., notified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cleared_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., week: _Optional[str] = ...) -> None: ...

class ListWarningsRequest(_message.Message):
    __slots__ = ("all", "project_ids", "user_id", "include_cleared")
    ALL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLEARED_FIELD_NUMBER: _ClassVar[int]
    all: bool
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    user_id: str
    include_cleared: bool
    def __init__(self, all: _Optional[bool] = ..., project_ids: _Optional[_Iterable[str]] = ..., user_id: _Optional[str] = ..., include_cleared: _Optional[bool] = ...) -> None: ...

class ListWarningsResponse(_message.Message):
    __slots__ = ("warnings",)
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    warnings: _containers.RepeatedCompositeFieldContainer[Warning]
    def __init__(self, warnings: _Optional[_Iterable[_Union[Warning, _Mapping]]] = ...) -> None: ...

class EvaluateWarningsRequest(_message.Message):
    __slots__ = ("now",)
    NOW_FIELD_NUMBER: _ClassVar[int]
    now: _timestamp_pb2.Timestamp
    def __init__(self, now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EvaluateWarningsResponse(_message.Message):
    __slots__ = ("raised", "cleared")
    RAISED_FIELD_NUMBER: _ClassVar[int]
    CLEARED_FIELD_NUMBER: _ClassVar[int]
    raised: int
    cleared: int
    def __init__(self, raised: _Optional[int] = ..., cleared: _Optional[int] = ...) -> None: ...

class HealthSettings(_message.Message):
    __slots__ = ("spi_amber", "spi_red", "cpi_amber", "cpi_red", "slip_amber_days", "slip_red_days", "overdue_amber", "overdue_red", "hour_rate", "weekly_capacity_hours", "cost_warning_ratio")
    SPI_AMBER_FIELD_NUMBER: _ClassVar[int]
    SPI_RED_FIELD_NUMBER: _ClassVar[int]
    CPI_AMBER_FIELD_NUMBER: _ClassVar[int]
    CPI_RED_FIELD_NUMBER: _ClassVar[int]
    SLIP_AMBER_DAYS_FIELD_NUMBER: _ClassVar[int]
    SLIP_RED_DAYS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_AMBER_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_RED_FIELD_NUMBER: _ClassVar[int]
    HOUR_RATE_FIELD_NUMBER: _ClassVar[int]
    WEEKLY_CAPACITY_HOURS_FIELD_NUMBER: _ClassVar[int]
    COST_WARNING_RATIO_FIELD_NUMBER: _ClassVar[int]
    spi_amber: float
    spi_red: float
    cpi_amber: float
    cpi_red: float
    slip_amber_days: int
    slip_red_days: int
    overdue_amber: int
    overdue_red: int
    hour_rate: str
    weekly_capacity_hours: float
    cost_warning_ratio: float
    def __init__(self, spi_amber: _Optional[float] = ..., spi_red: _Optional[float] = ..., cpi_amber: _Optional[float] = ..., cpi_red: _Optional[float] = ..., slip_amber_days: _Optional[int] = ..., slip_red_days: _Optional[int] = ..., overdue_amber: _Optional[int] = ..., overdue_red: _Optional[int] = ..., hour_rate: _Optional[str] = ..., weekly_capacity_hours: _Optional[float] = ..., cost_warning_ratio: _Optional[float] = ...) -> None: ...

class GetHealthSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetHealthSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: HealthSettings
    def __init__(self, settings: _Optional[_Union[HealthSettings, _Mapping]] = ...) -> None: ...

class SetHealthSettingsRequest(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: HealthSettings
    def __init__(self, settings: _Optional[_Union[HealthSettings, _Mapping]] = ...) -> None: ...

class SetHealthSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: HealthSettings
    def __init__(self, settings: _Optional[_Union[HealthSettings, _Mapping]] = ...) -> None: ...

class ProjectSnapshot(_message.Message):
    __slots__ = ("id", "facts", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    facts: ProjectFacts
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., facts: _Optional[_Union[ProjectFacts, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RebuildRequest(_message.Message):
    __slots__ = ("projects",)
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[ProjectSnapshot]
    def __init__(self, projects: _Optional[_Iterable[_Union[ProjectSnapshot, _Mapping]]] = ...) -> None: ...

class RebuildResponse(_message.Message):
    __slots__ = ("events", "projects", "tasks")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    events: int
    projects: int
    tasks: int
    def __init__(self, events: _Optional[int] = ..., projects: _Optional[int] = ..., tasks: _Optional[int] = ...) -> None: ...

class GetReviewRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class DelayReasonCount(_message.Message):
    __slots__ = ("reason", "tasks")
    REASON_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    tasks: int
    def __init__(self, reason: _Optional[str] = ..., tasks: _Optional[int] = ...) -> None: ...

class LateTask(_message.Message):
    __slots__ = ("task_id", "name", "baseline_finish", "finish", "slip_days", "delay_reason")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FINISH_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    SLIP_DAYS_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    name: str
    baseline_finish: str
    finish: str
    slip_days: int
    delay_reason: str
    def __init__(self, task_id: _Optional[str] = ..., name: _Optional[str] = ..., baseline_finish: _Optional[str] = ..., finish: _Optional[str] = ..., slip_days: _Optional[int] = ..., delay_reason: _Optional[str] = ...) -> None: ...

class Review(_message.Message):
    __slots__ = ("project_id", "code", "name", "status", "owner_id", "business_line", "region", "outcome", "reason", "lessons", "tags", "delay_summary", "delay_summary_generated", "budget", "cost", "cost_variance", "cost_ratio", "baseline_finish", "actual_finish", "slip_days", "has_schedule", "delay_reasons", "late_tasks", "tasks", "tasks_done", "reviewed_at", "reviewed_by", "closed_at", "has_budget")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    DELAY_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DELAY_SUMMARY_GENERATED_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    COST_VARIANCE_FIELD_NUMBER: _ClassVar[int]
    COST_RATIO_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FINISH_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FINISH_FIELD_NUMBER: _ClassVar[int]
    SLIP_DAYS_FIELD_NUMBER: _ClassVar[int]
    HAS_SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASONS_FIELD_NUMBER: _ClassVar[int]
    LATE_TASKS_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    TASKS_DONE_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_BY_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    HAS_BUDGET_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    code: str
    name: str
    status: str
    owner_id: str
    business_line: str
    region: str
    outcome: str
    reason: str
    lessons: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    delay_summary: str
    delay_summary_generated: bool
    budget: str
    cost: str
    cost_variance: str
    cost_ratio: float
    baseline_finish: str
    actual_finish: str
    slip_days: int
    has_schedule: bool
    delay_reasons: _containers.RepeatedCompositeFieldContainer[DelayReasonCount]
    late_tasks: _containers.RepeatedCompositeFieldContainer[LateTask]
    tasks: int
    tasks_done: int
    reviewed_at: _timestamp_pb2.Timestamp
    reviewed_by: str
    closed_at: _timestamp_pb2.Timestamp
    has_budget: bool
    def __init__(self, project_id: _Optional[str] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[str] = ..., owner_id: _Optional[str] = ..., business_line: _Optional[str] = ..., region: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., lessons: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., delay_summary: _Optional[str] = ..., delay_summary_generated: _Optional[bool] = ..., budget: _Optional[str] = ..., cost: _Optional[str] = ..., cost_variance: _Optional[str] = ..., cost_ratio: _Optional[float] = ..., baseline_finish: _Optional[str] = ..., actual_finish: _Optional[str] = ..., slip_days: _Optional[int] = ..., has_schedule: _Optional[bool] = ..., delay_reasons: _Optional[_Iterable[_Union[DelayReasonCount, _Mapping]]] = ..., late_tasks: _Optional[_Iterable[_Union[LateTask, _Mapping]]] = ..., tasks: _Optional[int] = ..., tasks_done: _Optional[int] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reviewed_by: _Optional[str] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., has_budget: _Optional[bool] = ...) -> None: ...

class GetReviewResponse(_message.Message):
    __slots__ = ("review",)
    REVIEW_FIELD_NUMBER: _ClassVar[int]
    review: Review
    def __init__(self, review: _Optional[_Union[Review, _Mapping]] = ...) -> None: ...

class SearchLessonsRequest(_message.Message):
    __slots__ = ("all", "project_ids", "q", "tag", "outcome", "business_line", "limit", "withheld")
    ALL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    all: bool
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    q: str
    tag: str
    outcome: str
    business_line: str
    limit: int
    withheld: _containers.RepeatedCompositeFieldContainer[Withheld]
    def __init__(self, all: _Optional[bool] = ..., project_ids: _Optional[_Iterable[str]] = ..., q: _Optional[str] = ..., tag: _Optional[str] = ..., outcome: _Optional[str] = ..., business_line: _Optional[str] = ..., limit: _Optional[int] = ..., withheld: _Optional[_Iterable[_Union[Withheld, _Mapping]]] = ...) -> None: ...

class Lesson(_message.Message):
    __slots__ = ("project_id", "code", "name", "business_line", "outcome", "reason", "lessons", "tags", "reviewed_at", "reviewed_by")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LESSONS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_AT_FIELD_NUMBER: _ClassVar[int]
    REVIEWED_BY_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    code: str
    name: str
    business_line: str
    outcome: str
    reason: str
    lessons: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    reviewed_at: _timestamp_pb2.Timestamp
    reviewed_by: str
    def __init__(self, project_id: _Optional[str] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., business_line: _Optional[str] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ..., lessons: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., reviewed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reviewed_by: _Optional[str] = ...) -> None: ...

class SearchLessonsResponse(_message.Message):
    __slots__ = ("items", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Lesson]
    tags: _containers.ScalarMap[str, int]
    def __init__(self, items: _Optional[_Iterable[_Union[Lesson, _Mapping]]] = ..., tags: _Optional[_Mapping[str, int]] = ...) -> None: ...
