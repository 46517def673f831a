import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from baobei.registry.v1 import registry_service_pb2 as _registry_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChangeDiff(_message.Message):
    __slots__ = ("field", "before", "after")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    field: str
    before: _struct_pb2.Value
    after: _struct_pb2.Value
    def __init__(self, field: _Optional[str] = ..., before: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., after: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class ChangeRequest(_message.Message):
    __slots__ = ("id", "project_id", "seq", "status", "changes", "diff", "reason", "reset_baseline", "requested_by", "created_at", "decided_at", "decided_by", "outcome_reason", "after_amount", "applied_version")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    DIFF_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESET_BASELINE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_REASON_FIELD_NUMBER: _ClassVar[int]
    AFTER_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    APPLIED_VERSION_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    seq: int
    status: str
    changes: _struct_pb2.Struct
    diff: _containers.RepeatedCompositeFieldContainer[ChangeDiff]
    reason: str
    reset_baseline: bool
    requested_by: str
    created_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    decided_by: str
    outcome_reason: str
    after_amount: str
    applied_version: int
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., seq: _Optional[int] = ..., status: _Optional[str] = ..., changes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., diff: _Optional[_Iterable[_Union[ChangeDiff, _Mapping]]] = ..., reason: _Optional[str] = ..., reset_baseline: _Optional[bool] = ..., requested_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., outcome_reason: _Optional[str] = ..., after_amount: _Optional[str] = ..., applied_version: _Optional[int] = ...) -> None: ...

class OpenChangeRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "actor_id", "actor_is_admin", "actor_roles", "changes", "reason", "reset_baseline", "viewer")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLES_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESET_BASELINE_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool
    actor_roles: _containers.RepeatedScalarFieldContainer[str]
    changes: _struct_pb2.Struct
    reason: str
    reset_baseline: bool
    viewer: _registry_service_pb2.Viewer
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., actor_roles: _Optional[_Iterable[str]] = ..., changes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., reason: _Optional[str] = ..., reset_baseline: _Optional[bool] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class SettleChangeRequest(_message.Message):
    __slots__ = ("request_id", "change_id", "status", "actor_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CHANGE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    change_id: str
    status: str
    actor_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., change_id: _Optional[str] = ..., status: _Optional[str] = ..., actor_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ChangeResponse(_message.Message):
    __slots__ = ("change",)
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    change: ChangeRequest
    def __init__(self, change: _Optional[_Union[ChangeRequest, _Mapping]] = ...) -> None: ...

class GetChangeRequest(_message.Message):
    __slots__ = ("change_id", "viewer")
    CHANGE_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    change_id: str
    viewer: _registry_service_pb2.Viewer
    def __init__(self, change_id: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class ListChangesRequest(_message.Message):
    __slots__ = ("project_id", "viewer")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    viewer: _registry_service_pb2.Viewer
    def __init__(self, project_id: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class ListChangesResponse(_message.Message):
    __slots__ = ("changes",)
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    changes: _containers.RepeatedCompositeFieldContainer[ChangeRequest]
    def __init__(self, changes: _Optional[_Iterable[_Union[ChangeRequest, _Mapping]]] = ...) -> None: ...
