import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AuditEvent(_message.Message):
    __slots__ = ("seq", "at", "action", "outcome", "actor_id", "actor_ip", "target_type", "target_id", "details_json", "request_id", "event_id", "prev_hash", "hash")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IP_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    seq: int
    at: _timestamp_pb2.Timestamp
    action: str
    outcome: str
    actor_id: str
    actor_ip: str
    target_type: str
    target_id: str
    details_json: str
    request_id: str
    event_id: str
    prev_hash: str
    hash: str
    def __init__(self, seq: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action: _Optional[str] = ..., outcome: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_ip: _Optional[str] = ..., target_type: _Optional[str] = ..., target_id: _Optional[str] = ..., details_json: _Optional[str] = ..., request_id: _Optional[str] = ..., event_id: _Optional[str] = ..., prev_hash: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class AppendAuditRequest(_message.Message):
    __slots__ = ("event_id", "action", "outcome", "actor_id", "actor_ip", "target_type", "target_id", "details_json", "request_id", "at")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IP_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_JSON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    action: str
    outcome: str
    actor_id: str
    actor_ip: str
    target_type: str
    target_id: str
    details_json: str
    request_id: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, event_id: _Optional[str] = ..., action: _Optional[str] = ..., outcome: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_ip: _Optional[str] = ..., target_type: _Optional[str] = ..., target_id: _Optional[str] = ..., details_json: _Optional[str] = ..., request_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AppendAuditResponse(_message.Message):
    __slots__ = ("event", "created")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    event: AuditEvent
    created: bool
    def __init__(self, event: _Optional[_Union[AuditEvent, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class ListAuditRequest(_message.Message):
    __slots__ = ("action", "actor_id", "target_type", "target_id", "outcome", "to", "limit", "cursor", "request_id")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    action: str
    actor_id: str
    target_type: str
    target_id: str
    outcome: str
    to: _timestamp_pb2.Timestamp
    limit: int
    cursor: str
    request_id: str
    def __init__(self, action: _Optional[str] = ..., actor_id: _Optional[str] = ..., target_type: _Optional[str] = ..., target_id: _Optional[str] = ..., outcome: _Optional[str] = ..., to: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., request_id: _Optional[str] = ..., **kwargs) -> None: ...

class ListAuditResponse(_message.Message):
    __slots__ = ("events", "next_cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AuditEvent]
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[AuditEvent, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class VerifyAuditRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ChainPoint(_message.Message):
    __slots__ = ("seq", "hash")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    seq: int
    hash: str
    def __init__(self, seq: _Optional[int] = ..., hash: _Optional[str] = ...) -> None: ...

class VerifyAuditResponse(_message.Message):
    __slots__ = ("ok", "checked", "first_broken_seq", "anchor", "head", "reason")
    OK_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    FIRST_BROKEN_SEQ_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    checked: int
    first_broken_seq: int
    anchor: ChainPoint
    head: ChainPoint
    reason: str
    def __init__(self, ok: _Optional[bool] = ..., checked: _Optional[int] = ..., first_broken_seq: _Optional[int] = ..., anchor: _Optional[_Union[ChainPoint, _Mapping]] = ..., head: _Optional[_Union[ChainPoint, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class PurgeAuditRequest(_message.Message):
    __slots__ = ("event_id", "before", "at", "actor_id", "request_id")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    before: _timestamp_pb2.Timestamp
    at: _timestamp_pb2.Timestamp
    actor_id: str
    request_id: str
    def __init__(self, event_id: _Optional[str] = ..., before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class PurgeAuditResponse(_message.Message):
    __slots__ = ("purged", "anchor", "event")
    PURGED_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    purged: int
    anchor: ChainPoint
    event: AuditEvent
    def __init__(self, purged: _Optional[int] = ..., anchor: _Optional[_Union[ChainPoint, _Mapping]] = ..., event: _Optional[_Union[AuditEvent, _Mapping]] = ...) -> None: ...
