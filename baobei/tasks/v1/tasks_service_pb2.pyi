import datetime

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
    __slots__ = ("id", "project_id", "name", "assignee_id", "start", "due", "duration_days", "milestone", "status", "progress", "depends_on", "created_at")
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
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., assignee_id: _Optional[str] = ..., start: _Optional[str] = ..., due: _Optional[str] = ..., duration_days: _Optional[int] = ..., milestone: _Optional[bool] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., progress: _Optional[int] = ..., depends_on: _Optional[_Iterable[_Union[Dependency, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateTaskRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "name", "assignee_id", "start", "due", "duration_days", "milestone", "depends_on")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    DURATION_DAYS_FIELD_NUMBER: _ClassVar[int]
    MILESTONE_FIELD_NUMBER: _ClassVar[int]
    DEPENDS_ON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    name: str
    assignee_id: str
    start: str
    due: str
    duration_days: int
    milestone: bool
    depends_on: _containers.RepeatedCompositeFieldContainer[Dependency]
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., name: _Optional[str] = ..., assignee_id: _Optional[str] = ..., start: _Optional[str] = ..., due: _Optional[str] = ..., duration_days: _Optional[int] = ..., milestone: _Optional[bool] = ..., depends_on: _Optional[_Iterable[_Union[Dependency, _Mapping]]] = ...) -> None: ...

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
