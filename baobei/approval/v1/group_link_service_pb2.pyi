from baobei.approval.v1 import approval_service_pb2 as _approval_service_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckGroupLinkRequest(_message.Message):
    __slots__ = ("link_id", "task_id", "actor_id")
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    link_id: str
    task_id: str
    actor_id: str
    def __init__(self, link_id: _Optional[str] = ..., task_id: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class CheckGroupLinkResponse(_message.Message):
    __slots__ = ("state", "task", "use_id", "anchor")
    STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    USE_ID_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    state: str
    task: _approval_service_pb2.ApprovalTask
    use_id: str
    anchor: _approval_service_pb2.ApprovalTask
    def __init__(self, state: _Optional[str] = ..., task: _Optional[_Union[_approval_service_pb2.ApprovalTask, _Mapping]] = ..., use_id: _Optional[str] = ..., anchor: _Optional[_Union[_approval_service_pb2.ApprovalTask, _Mapping]] = ...) -> None: ...
