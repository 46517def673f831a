import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DependencyType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPENDENCY_TYPE_UNSPECIFIED: _ClassVar[DependencyType]
    DEPENDENCY_TYPE_FS: _ClassVar[DependencyType]
    DEPENDENCY_TYPE_SS: _ClassVar[DependencyType]
    DEPENDENCY_TYPE_FF: _ClassVar[DependencyType]
    DEPENDENCY_TYPE_SF: _ClassVar[DependencyType]

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_TODO: _ClassVar[TaskStatus]
    TASK_STATUS_IN_PROGRESS: _ClassVar[TaskStatus]
    TASK_STATUS_DONE: _ClassVar[TaskStatus]
    TASK_STATUS_BLOCKED: _ClassVar[TaskStatus]
DEPENDENCY_TYPE_UNSPECIFIED: DependencyType
DEPENDENCY_TYPE_FS: DependencyType
DEPENDENCY_TYPE_SS: DependencyType
DEPENDENCY_TYPE_FF: DependencyType
DEPENDENCY_TYPE_SF: DependencyType
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_TODO: TaskStatus
TASK_STATUS_IN_PROGRESS: TaskStatus
TASK_STATUS_DONE: TaskStatus
TASK_STATUS_BLOCKED: TaskStatus

class Dependency(_message.Message):
    __slots__ = ("task_id", "type", "lag_days")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LAG_DAYS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    type: DependencyType
    lag_days: int
    def __init__(self, task_id: _Optional[str] = ..., type: _Optional[_Union[DependencyType, str]] = ..., lag_days: _Optional[int] = ...) -> None: ...

class Task(_message.Message):
    __slots__ = ("id", "project_id", "name", "assignee_id", "start", "due", "duration_days", "milestone", "status", "progress", "depends_on", "created_at", "parent_id", "estimate_hours", "pinned", "requires_deliverables", "actual_start", "done_at", "delay_reason", "version", "updated_at", "deliverables")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    DURATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_HOURS_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_DELIVERABLES_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_START_FIELD_NUMBER: _ClassVar[int]
    DONE_AT_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERABLES_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    name: str
    assignee_id: str
    start: str
    due: str
    duration_days: int
    milestone: bool
    status: TaskStatus
    progress: int
    depends_on: _containers.RepeatedCompositeFieldContainer[Dependency]
    created_at: _timestamp_pb2.Timestamp
    parent_id: str
    estimate_hours: str
    pinned: bool
    requires_deliverables: bool
    actual_start: str
    done_at: _timestamp_pb2.Timestamp
    delay_reason: str
    version: int
    updated_at: _timestamp_pb2.Timestamp
    deliverables: int
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., assignee_id: _Optional[str] = ..., start: _Optional[str] = ..., due: _Optional[str] = ..., duration_days: _Optional[int] = ..., milestone: _Optional[bool] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., progress: _Optional[int] = ..., depends_on: _Optional[_Iterable[_Union[Dependency, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., parent_id: _Optional[str] = ..., estimate_hours: _Optional[str] = ..., pinned: _Optional[bool] = ..., requires_deliverables: _Optional[bool] = ..., actual_start: _Optional[str] = ..., done_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delay_reason: _Optional[str] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deliverables: _Optional[int] = ...) -> None: ...

class CreateTaskRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "name", "assignee_id", "start", "due", "duration_days", "milestone", "depends_on", "parent_id", "estimate_hours", "pinned", "requires_deliverables", "actor_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    DURATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_HOURS_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    REQUIRES_DELIVERABLES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    name: str
    assignee_id: str
    start: str
    due: str
    duration_days: int
    milestone: bool
    depends_on: _containers.RepeatedCompositeFieldContainer[Dependency]
    parent_id: str
    estimate_hours: str
    pinned: bool
    requires_deliverables: bool
    actor_id: str
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., assignee_id: _Optional[str] = ..., start: _Optional[str] = ..., due: _Optional[str] = ..., duration_days: _Optional[int] = ..., milestone: _Optional[bool] = ..., depends_on: _Optional[_Iterable[_Union[Dependency, _Mapping]]] = ..., parent_id: _Optional[str] = ..., estimate_hours: _Optional[str] = ..., pinned: _Optional[bool] = ..., requires_deliverables: _Optional[bool] = ..., actor_id: _Optional[str] = ...) -> None: ...

class CreateTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    def __init__(self, tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ...) -> None: ...

class ListAssigneeProjectsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListAssigneeProjectsResponse(_message.Message):
    __slots__ = ("project_ids",)
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListAssigneeTasksRequest(_message.Message):
    __slots__ = ("user_id", "status", "limit", "cursor")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    status: str
    limit: int
    cursor: str
    def __init__(self, user_id: _Optional[str] = ..., status: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListAssigneeTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_cursor")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[Task]
    next_cursor: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[Task, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class Actor(_message.Message):
    __slots__ = ("user_id", "relations")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RELATIONS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    relations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., relations: _Optional[_Iterable[str]] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: Task
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ...) -> None: ...

class UpdateTaskRequest(_message.Message):
    __slots__ = ("request_id", "task_id", "actor_id", "expected_version", "name", "status", "progress", "start", "due", "duration_days", "assignee_id", "replace_depends_on", "depends_on", "delay_reason", "pinned", "estimate_hours", "parent_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    DURATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    REPLACE_DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_FIELD_NUMBER: _ClassVar[int]
    PINNED_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_HOURS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_id: str
    actor_id: str
    expected_version: int
    name: str
    status: str
    progress: int
    start: str
    due: str
    duration_days: int
    assignee_id: str
    replace_depends_on: bool
    depends_on: _containers.RepeatedCompositeFieldContainer[Dependency]
    delay_reason: str
    pinned: bool
    estimate_hours: str
    parent_id: str
    def __init__(self, request_id: _Optional[str] = ..., task_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., expected_version: _Optional[int] = ..., name: _Optional[str] = ..., status: _Optional[str] = ..., progress: _Optional[int] = ..., start: _Optional[str] = ..., due: _Optional[str] = ..., duration_days: _Optional[int] = ..., assignee_id: _Optional[str] = ..., replace_depends_on: _Optional[bool] = ..., depends_on: _Optional[_Iterable[_Union[Dependency, _Mapping]]] = ..., delay_reason: _Optional[str] = ..., pinned: _Optional[bool] = ..., estimate_hours: _Optional[str] = ..., parent_id: _Optional[str] = ...) -> None: ...

class UpdateTaskResponse(_message.Message):
    __slots__ = ("task", "previous_status")
    TASK_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_STATUS_FIELD_NUMBER: _ClassVar[int]
    task: Task
    previous_status: str
    def __init__(self, task: _Optional[_Union[Task, _Mapping]] = ..., previous_status: _Optional[str] = ...) -> None: ...

class ScheduledTask(_message.Message):
    __slots__ = ("id", "name", "start", "finish", "critical", "slack_days", "status", "parent_id", "milestone", "duration_days", "progress", "assignee_id", "early_start", "early_finish", "late_start", "late_finish", "baseline_start", "baseline_finish", "finish_variance_days", "delay_reason", "delay_reason_missing", "summary", "depends_on", "version", "due")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_FIELD_NUMBER: _ClassVar[int]
    SLACK_DAYS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_FIELD_NUMBER: _ClassVar[int]
    DURATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    EARLY_START_FIELD_NUMBER: _ClassVar[int]
    EARLY_FINISH_FIELD_NUMBER: _ClassVar[int]
    LATE_START_FIELD_NUMBER: _ClassVar[int]
    LATE_FINISH_FIELD_NUMBER: _ClassVar[int]
    BASELINE_START_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FINISH_FIELD_NUMBER: _ClassVar[int]
    FINISH_VARIANCE_DAYS_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_FIELD_NUMBER: _ClassVar[int]
    DELAY_REASON_MISSING_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    start: str
    finish: str
    critical: bool
    slack_days: int
    status: str
    parent_id: str
    milestone: bool
    duration_days: int
    progress: int
    assignee_id: str
    early_start: str
    early_finish: str
    late_start: str
    late_finish: str
    baseline_start: str
    baseline_finish: str
    finish_variance_days: int
    delay_reason: str
    delay_reason_missing: bool
    summary: bool
    depends_on: _containers.RepeatedCompositeFieldContainer[Dependency]
    version: int
    due: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., start: _Optional[str] = ..., finish: _Optional[str] = ..., critical: _Optional[bool] = ..., slack_days: _Optional[int] = ..., status: _Optional[str] = ..., parent_id: _Optional[str] = ..., milestone: _Optional[bool] = ..., duration_days: _Optional[int] = ..., progress: _Optional[int] = ..., assignee_id: _Optional[str] = ..., early_start: _Optional[str] = ..., early_finish: _Optional[str] = ..., late_start: _Optional[str] = ..., late_finish: _Optional[str] = ..., baseline_start: _Optional[str] = ..., baseline_finish: _Optional[str] = ..., finish_variance_days: _Optional[int] = ..., delay_reason: _Optional[str] = ..., delay_reason_missing: _Optional[bool] = ..., summary: _Optional[bool] = ..., depends_on: _Optional[_Iterable[_Union[Dependency, _Mapping]]] = ..., version: _Optional[int] = ..., due: _Optional[str] = ...) -> None: ...

class GetScheduleRequest(_message.Message):
    __slots__ = ("project_id", "today", "format", "title")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TODAY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    today: str
    format: str
    title: str
    def __init__(self, project_id: _Optional[str] = ..., today: _Optional[str] = ..., format: _Optional[str] = ..., title: _Optional[str] = ...) -> None: ...

class GetScheduleResponse(_message.Message):
    __slots__ = ("tasks", "start", "finish", "duration_days", "critical_path", "baseline_number", "baseline_finish", "svg", "plan_version", "pdf", "forecast")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    DURATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    CRITICAL_PATH_FIELD_NUMBER: _ClassVar[int]
    BASELINE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    BASELINE_FINISH_FIELD_NUMBER: _ClassVar[int]
    SVG_FIELD_NUMBER: _ClassVar[int]
    PLAN_VERSION_FIELD_NUMBER: _ClassVar[int]
    PDF_FIELD_NUMBER: _ClassVar[int]
    FORECAST_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[ScheduledTask]
    start: str
    finish: str
    duration_days: int
    critical_path: _containers.RepeatedScalarFieldContainer[str]
    baseline_number: int
    baseline_finish: str
    svg: str
    plan_version: int
    pdf: bytes
    forecast: FinishForecast
    def __init__(self, tasks: _Optional[_Iterable[_Union[ScheduledTask, _Mapping]]] = ..., start: _Optional[str] = ..., finish: _Optional[str] = ..., duration_days: _Optional[int] = ..., critical_path: _Optional[_Iterable[str]] = ..., baseline_number: _Optional[int] = ..., baseline_finish: _Optional[str] = ..., svg: _Optional[str] = ..., plan_version: _Optional[int] = ..., pdf: _Optional[bytes] = ..., forecast: _Optional[_Union[FinishForecast, _Mapping]] = ...) -> None: ...

class FinishForecast(_message.Message):
    __slots__ = ("finish", "planned_finish", "slip_days", "velocity", "samples", "basis")
    FINISH_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FINISH_FIELD_NUMBER: _ClassVar[int]
    SLIP_DAYS_FIELD_NUMBER: _ClassVar[int]
    VELOCITY_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    finish: str
    planned_finish: str
    slip_days: int
    velocity: float
    samples: int
    basis: str
    def __init__(self, finish: _Optional[str] = ..., planned_finish: _Optional[str] = ..., slip_days: _Optional[int] = ..., velocity: _Optional[float] = ..., samples: _Optional[int] = ..., basis: _Optional[str] = ...) -> None: ...

class SaveBaselineRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class SaveBaselineResponse(_message.Message):
    __slots__ = ("number", "tasks")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    number: int
    tasks: int
    def __init__(self, number: _Optional[int] = ..., tasks: _Optional[int] = ...) -> None: ...

class CostEntry(_message.Message):
    __slots__ = ("id", "project_id", "task_id", "kind", "hours", "rate", "amount", "note", "at", "actor_id", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    task_id: str
    kind: str
    hours: str
    rate: str
    amount: str
    note: str
    at: str
    actor_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., task_id: _Optional[str] = ..., kind: _Optional[str] = ..., hours: _Optional[str] = ..., rate: _Optional[str] = ..., amount: _Optional[str] = ..., note: _Optional[str] = ..., at: _Optional[str] = ..., actor_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AddCostRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "task_id", "kind", "hours", "rate", "amount", "note", "at", "actor_id", "actor")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    task_id: str
    kind: str
    hours: str
    rate: str
    amount: str
    note: str
    at: str
    actor_id: str
    actor: Actor
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., task_id: _Optional[str] = ..., kind: _Optional[str] = ..., hours: _Optional[str] = ..., rate: _Optional[str] = ..., amount: _Optional[str] = ..., note: _Optional[str] = ..., at: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor: _Optional[_Union[Actor, _Mapping]] = ...) -> None: ...

class AddCostResponse(_message.Message):
    __slots__ = ("cost",)
    COST_FIELD_NUMBER: _ClassVar[int]
    cost: CostEntry
    def __init__(self, cost: _Optional[_Union[CostEntry, _Mapping]] = ...) -> None: ...

class GetCostsRequest(_message.Message):
    __slots__ = ("project_id", "project_amount")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    project_amount: str
    def __init__(self, project_id: _Optional[str] = ..., project_amount: _Optional[str] = ...) -> None: ...

class TaskCost(_message.Message):
    __slots__ = ("task_id", "name", "actual", "estimate_hours")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    ESTIMATE_HOURS_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    name: str
    actual: str
    estimate_hours: str
    def __init__(self, task_id: _Optional[str] = ..., name: _Optional[str] = ..., actual: _Optional[str] = ..., estimate_hours: _Optional[str] = ...) -> None: ...

class GetCostsResponse(_message.Message):
    __slots__ = ("budget", "actual", "remaining", "consumed_share", "by_kind", "by_task", "items", "budget_overridden")
    class ByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    CONSUMED_SHARE_FIELD_NUMBER: _ClassVar[int]
    BY_KIND_FIELD_NUMBER: _ClassVar[int]
    BY_TASK_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    BUDGET_OVERRIDDEN_FIELD_NUMBER: _ClassVar[int]
    budget: str
    actual: str
    remaining: str
    consumed_share: str
    by_kind: _containers.ScalarMap[str, str]
    by_task: _containers.RepeatedCompositeFieldContainer[TaskCost]
    items: _containers.RepeatedCompositeFieldContainer[CostEntry]
    budget_overridden: bool
    def __init__(self, budget: _Optional[str] = ..., actual: _Optional[str] = ..., remaining: _Optional[str] = ..., consumed_share: _Optional[str] = ..., by_kind: _Optional[_Mapping[str, str]] = ..., by_task: _Optional[_Iterable[_Union[TaskCost, _Mapping]]] = ..., items: _Optional[_Iterable[_Union[CostEntry, _Mapping]]] = ..., budget_overridden: _Optional[bool] = ...) -> None: ...

class SetBudgetRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "budget")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    budget: str
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., budget: _Optional[str] = ...) -> None: ...

class SetBudgetResponse(_message.Message):
    __slots__ = ("budget",)
    BUDGET_FIELD_NUMBER: _ClassVar[int]
    budget: str
    def __init__(self, budget: _Optional[str] = ...) -> None: ...

class Deliverable(_message.Message):
    __slots__ = ("id", "task_id", "filename", "content_type", "size", "sha256", "uploaded_by", "created_at", "project_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    task_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    created_at: _timestamp_pb2.Timestamp
    project_id: str
    def __init__(self, id: _Optional[str] = ..., task_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., uploaded_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ...) -> None: ...

class AddDeliverableRequest(_message.Message):
    __slots__ = ("request_id", "task_id", "filename", "content_type", "size", "sha256", "uploaded_by", "data")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    data: bytes
    def __init__(self, request_id: _Optional[str] = ..., task_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., uploaded_by: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class GetDeliverableRequest(_message.Message):
    __slots__ = ("deliverable_id", "with_content")
    DELIVERABLE_ID_FIELD_NUMBER: _ClassVar[int]
    WITH_CONTENT_FIELD_NUMBER: _ClassVar[int]
    deliverable_id: str
    with_content: bool
    def __init__(self, deliverable_id: _Optional[str] = ..., with_content: _Optional[bool] = ...) -> None: ...

class GetDeliverableResponse(_message.Message):
    __slots__ = ("deliverable", "data")
    DELIVERABLE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    deliverable: Deliverable
    data: bytes
    def __init__(self, deliverable: _Optional[_Union[Deliverable, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class AddDeliverableResponse(_message.Message):
    __slots__ = ("deliverable",)
    DELIVERABLE_FIELD_NUMBER: _ClassVar[int]
    deliverable: Deliverable
    def __init__(self, deliverable: _Optional[_Union[Deliverable, _Mapping]] = ...) -> None: ...

class ListDeliverablesRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class ListDeliverablesResponse(_message.Message):
    __slots__ = ("deliverables",)
    DELIVERABLES_FIELD_NUMBER: _ClassVar[int]
    deliverables: _containers.RepeatedCompositeFieldContainer[Deliverable]
    def __init__(self, deliverables: _Optional[_Iterable[_Union[Deliverable, _Mapping]]] = ...) -> None: ...

class RuleDoc(_message.Message):
    __slots__ = ("key", "body", "version", "updated_at")
    KEY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    key: str
    body: _struct_pb2.Struct
    version: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., body: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PutRuleRequest(_message.Message):
    __slots__ = ("request_id", "key", "body")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    key: str
    body: _struct_pb2.Struct
    def __init__(self, request_id: _Optional[str] = ..., key: _Optional[str] = ..., body: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PutRuleResponse(_message.Message):
    __slots__ = ("rule",)
    RULE_FIELD_NUMBER: _ClassVar[int]
    rule: RuleDoc
    def __init__(self, rule: _Optional[_Union[RuleDoc, _Mapping]] = ...) -> None: ...

class ListRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[RuleDoc]
    def __init__(self, rules: _Optional[_Iterable[_Union[RuleDoc, _Mapping]]] = ...) -> None: ...

class DelayReason(_message.Message):
    __slots__ = ("code", "label")
    CODE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    code: str
    label: str
    def __init__(self, code: _Optional[str] = ..., label: _Optional[str] = ...) -> None: ...

class PutDelayReasonsRequest(_message.Message):
    __slots__ = ("request_id", "reasons")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reasons: _containers.RepeatedCompositeFieldContainer[DelayReason]
    def __init__(self, request_id: _Optional[str] = ..., reasons: _Optional[_Iterable[_Union[DelayReason, _Mapping]]] = ...) -> None: ...

class PutDelayReasonsResponse(_message.Message):
    __slots__ = ("reasons",)
    REASONS_FIELD_NUMBER: _ClassVar[int]
    reasons: _containers.RepeatedCompositeFieldContainer[DelayReason]
    def __init__(self, reasons: _Optional[_Iterable[_Union[DelayReason, _Mapping]]] = ...) -> None: ...

class ListDelayReasonsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListDelayReasonsResponse(_message.Message):
    __slots__ = ("reasons",)
    REASONS_FIELD_NUMBER: _ClassVar[int]
    reasons: _containers.RepeatedCompositeFieldContainer[DelayReason]
    def __init__(self, reasons: _Optional[_Iterable[_Union[DelayReason, _Mapping]]] = ...) -> None: ...

class PutTemplateRequest(_message.Message):
    __slots__ = ("request_id", "business_line", "body")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    business_line: str
    body: _struct_pb2.Struct
    def __init__(self, request_id: _Optional[str] = ..., business_line: _Optional[str] = ..., body: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PutTemplateResponse(_message.Message):
    __slots__ = ("business_line", "version", "tasks")
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    version: int
    tasks: int
    def __init__(self, business_line: _Optional[str] = ..., version: _Optional[int] = ..., tasks: _Optional[int] = ...) -> None: ...

class GetTemplateRequest(_message.Message):
    __slots__ = ("business_line",)
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    def __init__(self, business_line: _Optional[str] = ...) -> None: ...

class GetTemplateResponse(_message.Message):
    __slots__ = ("business_line", "version", "body")
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    version: int
    body: _struct_pb2.Struct
    def __init__(self, business_line: _Optional[str] = ..., version: _Optional[int] = ..., body: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ApplyTemplateRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "business_line", "start", "owner_id", "baseline_name", "evaluate")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BASELINE_NAME_FIELD_NUMBER: _ClassVar[int]
    EVALUATE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    business_line: str
    start: str
    owner_id: str
    baseline_name: str
    evaluate: EvaluateRulesRequest
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., business_line: _Optional[str] = ..., start: _Optional[str] = ..., owner_id: _Optional[str] = ..., baseline_name: _Optional[str] = ..., evaluate: _Optional[_Union[EvaluateRulesRequest, _Mapping]] = ...) -> None: ...

class ApplyTemplateResponse(_message.Message):
    __slots__ = ("created", "template_version", "baseline_number", "evaluation")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    BASELINE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    created: int
    template_version: int
    baseline_number: int
    evaluation: EvaluateRulesResponse
    def __init__(self, created: _Optional[int] = ..., template_version: _Optional[int] = ..., baseline_number: _Optional[int] = ..., evaluation: _Optional[_Union[EvaluateRulesResponse, _Mapping]] = ...) -> None: ...

class Recipients(_message.Message):
    __slots__ = ("user_ids", "roles", "escalate", "webhooks")
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_FIELD_NUMBER: _ClassVar[int]
    WEBHOOKS_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    roles: _containers.RepeatedScalarFieldContainer[str]
    escalate: _containers.RepeatedScalarFieldContainer[str]
    webhooks: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_ids: _Optional[_Iterable[str]] = ..., roles: _Optional[_Iterable[str]] = ..., escalate: _Optional[_Iterable[str]] = ..., webhooks: _Optional[_Iterable[str]] = ...) -> None: ...

class RuleFire(_message.Message):
    __slots__ = ("key", "rule_key", "task_id", "title", "body", "recipients", "fired_at", "project_id")
    KEY_FIELD_NUMBER: _ClassVar[int]
    RULE_KEY_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    FIRED_AT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    key: str
    rule_key: str
    task_id: str
    title: str
    body: str
    recipients: Recipients
    fired_at: _timestamp_pb2.Timestamp
    project_id: str
    def __init__(self, key: _Optional[str] = ..., rule_key: _Optional[str] = ..., task_id: _Optional[str] = ..., title: _Optional[str] = ..., body: _Optional[str] = ..., recipients: _Optional[_Union[Recipients, _Mapping]] = ..., fired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ...) -> None: ...

class ReportableEvent(_message.Message):
    __slots__ = ("seq", "kind", "task_id", "payload", "at")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    kind: str
    task_id: str
    payload: _struct_pb2.Struct
    at: _timestamp_pb2.Timestamp
    def __init__(self, seq: _Optional[int] = ..., kind: _Optional[str] = ..., task_id: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EvaluateRulesRequest(_message.Message):
    __slots__ = ("project_id", "now", "after_seq", "owner_id", "project_name", "business_line", "project_amount", "protection_until")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_UNTIL_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    now: _timestamp_pb2.Timestamp
    after_seq: int
    owner_id: str
    project_name: str
    business_line: str
    project_amount: str
    protection_until: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., after_seq: _Optional[int] = ..., owner_id: _Optional[str] = ..., project_name: _Optional[str] = ..., business_line: _Optional[str] = ..., project_amount: _Optional[str] = ..., protection_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EvaluateRulesResponse(_message.Message):
    __slots__ = ("fires", "next_wake", "events", "last_seq", "errors")
    FIRES_FIELD_NUMBER: _ClassVar[int]
    NEXT_WAKE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQ_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    fires: _containers.RepeatedCompositeFieldContainer[RuleFire]
    next_wake: _timestamp_pb2.Timestamp
    events: _containers.RepeatedCompositeFieldContainer[ReportableEvent]
    last_seq: int
    errors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, fires: _Optional[_Iterable[_Union[RuleFire, _Mapping]]] = ..., next_wake: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., events: _Optional[_Iterable[_Union[ReportableEvent, _Mapping]]] = ..., last_seq: _Optional[int] = ..., errors: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordFireRequest(_message.Message):
    __slots__ = ("fire",)
    FIRE_FIELD_NUMBER: _ClassVar[int]
    fire: RuleFire
    def __init__(self, fire: _Optional[_Union[RuleFire, _Mapping]] = ...) -> None: ...

class RecordFireResponse(_message.Message):
    __slots__ = ("recorded",)
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    recorded: bool
    def __init__(self, recorded: _Optional[bool] = ...) -> None: ...

class ListFiresRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class ListFiresResponse(_message.Message):
    __slots__ = ("fires",)
    FIRES_FIELD_NUMBER: _ClassVar[int]
    fires: _containers.RepeatedCompositeFieldContainer[RuleFire]
    def __init__(self, fires: _Optional[_Iterable[_Union[RuleFire, _Mapping]]] = ...) -> None: ...

class Voucher(_message.Message):
    __slots__ = ("row", "voucher_id", "project_id", "amount", "currency", "category", "occurred_on", "description")
    ROW_FIELD_NUMBER: _ClassVar[int]
    VOUCHER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_ON_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    row: int
    voucher_id: str
    project_id: str
    amount: str
    currency: str
    category: str
    occurred_on: str
    description: str
    def __init__(self, row: _Optional[int] = ..., voucher_id: _Optional[str] = ..., project_id: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., category: _Optional[str] = ..., occurred_on: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ImportVouchersRequest(_message.Message):
    __slots__ = ("source", "vouchers", "actor_id")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    VOUCHERS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    source: str
    vouchers: _containers.RepeatedCompositeFieldContainer[Voucher]
    actor_id: str
    def __init__(self, source: _Optional[str] = ..., vouchers: _Optional[_Iterable[_Union[Voucher, _Mapping]]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class VoucherProblem(_message.Message):
    __slots__ = ("field", "code", "message_zh", "message_en")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ZH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    field: str
    code: str
    message_zh: str
    message_en: str
    def __init__(self, field: _Optional[str] = ..., code: _Optional[str] = ..., message_zh: _Optional[str] = ..., message_en: _Optional[str] = ...) -> None: ...

class VoucherResult(_message.Message):
    __slots__ = ("row", "voucher_id", "status", "cost_id", "project_id", "problems")
    ROW_FIELD_NUMBER: _ClassVar[int]
    VOUCHER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    COST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PROBLEMS_FIELD_NUMBER: _ClassVar[int]
    row: int
    voucher_id: str
    status: str
    cost_id: str
    project_id: str
    problems: _containers.RepeatedCompositeFieldContainer[VoucherProblem]
    def __init__(self, row: _Optional[int] = ..., voucher_id: _Optional[str] = ..., status: _Optional[str] = ..., cost_id: _Optional[str] = ..., project_id: _Optional[str] = ..., problems: _Optional[_Iterable[_Union[VoucherProblem, _Mapping]]] = ...) -> None: ...

class ImportVouchersResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[VoucherResult]
    def __init__(self, results: _Optional[_Iterable[_Union[VoucherResult, _Mapping]]] = ...) -> None: ...
