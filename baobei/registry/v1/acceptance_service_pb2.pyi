import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from baobei.registry.v1 import registry_service_pb2 as _registry_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChecklistItem(_message.Message):
    __slots__ = ("key", "name", "required", "needs_document")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    NEEDS_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    required: bool
    needs_document: bool
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., required: _Optional[bool] = ..., needs_document: _Optional[bool] = ...) -> None: ...

class Checklist(_message.Message):
    __slots__ = ("business_line", "items", "version", "updated_at", "updated_by", "configured")
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    CONFIGURED_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    items: _containers.RepeatedCompositeFieldContainer[ChecklistItem]
    version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    configured: bool
    def __init__(self, business_line: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ChecklistItem, _Mapping]]] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ..., configured: _Optional[bool] = ...) -> None: ...

class GetChecklistRequest(_message.Message):
    __slots__ = ("business_line",)
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    def __init__(self, business_line: _Optional[str] = ...) -> None: ...

class GetChecklistResponse(_message.Message):
    __slots__ = ("checklist",)
    CHECKLIST_FIELD_NUMBER: _ClassVar[int]
    checklist: Checklist
    def __init__(self, checklist: _Optional[_Union[Checklist, _Mapping]] = ...) -> None: ...

class PutChecklistRequest(_message.Message):
    __slots__ = ("business_line", "items", "actor_id")
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    business_line: str
    items: _containers.RepeatedCompositeFieldContainer[ChecklistItem]
    actor_id: str
    def __init__(self, business_line: _Optional[str] = ..., items: _Optional[_Iterable[_Union[ChecklistItem, _Mapping]]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class PutChecklistResponse(_message.Message):
    __slots__ = ("checklist",)
    CHECKLIST_FIELD_NUMBER: _ClassVar[int]
    checklist: Checklist
    def __init__(self, checklist: _Optional[_Union[Checklist, _Mapping]] = ...) -> None: ...

class AcceptanceDocument(_message.Message):
    __slots__ = ("attachment_id", "filename", "content_type", "size", "deliverable_key", "uploaded_by", "uploaded_at", "request_id")
    ATTACHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DELIVERABLE_KEY_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_AT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    attachment_id: str
    filename: str
    content_type: str
    size: int
    deliverable_key: str
    uploaded_by: str
    uploaded_at: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, attachment_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., deliverable_key: _Optional[str] = ..., uploaded_by: _Optional[str] = ..., uploaded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class AddDocumentRequest(_message.Message):
    __slots__ = ("project_id", "document", "viewer")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    document: AcceptanceDocument
    viewer: _registry_service_pb2.Viewer
    def __init__(self, project_id: _Optional[str] = ..., document: _Optional[_Union[AcceptanceDocument, _Mapping]] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class AddDocumentResponse(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: AcceptanceDocument
    def __init__(self, document: _Optional[_Union[AcceptanceDocument, _Mapping]] = ...) -> None: ...

class Deliverable(_message.Message):
    __slots__ = ("key", "name", "required", "needs_document", "done", "note")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    NEEDS_DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    required: bool
    needs_document: bool
    done: bool
    note: str
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., required: _Optional[bool] = ..., needs_document: _Optional[bool] = ..., done: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class AcceptanceRequest(_message.Message):
    __slots__ = ("id", "project_id", "seq", "status", "business_line", "deliverables", "comment", "requested_by", "created_at", "decided_at", "decided_by", "reason", "documents", "policy_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    DELIVERABLES_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    seq: int
    status: str
    business_line: str
    deliverables: _containers.RepeatedCompositeFieldContainer[Deliverable]
    comment: str
    requested_by: str
    created_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    decided_by: str
    reason: str
    documents: _containers.RepeatedCompositeFieldContainer[AcceptanceDocument]
    policy_key: str
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., seq: _Optional[int] = ..., status: _Optional[str] = ..., business_line: _Optional[str] = ..., deliverables: _Optional[_Iterable[_Union[Deliverable, _Mapping]]] = ..., comment: _Optional[str] = ..., requested_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., reason: _Optional[str] = ..., documents: _Optional[_Iterable[_Union[AcceptanceDocument, _Mapping]]] = ..., policy_key: _Optional[str] = ...) -> None: ...

class DeliverableState(_message.Message):
    __slots__ = ("key", "done", "note")
    KEY_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    key: str
    done: bool
    note: str
    def __init__(self, key: _Optional[str] = ..., done: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class OpenRequestRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "deliverables", "comment", "actor_id", "policy_key", "viewer")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERABLES_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    deliverables: _containers.RepeatedCompositeFieldContainer[DeliverableState]
    comment: str
    actor_id: str
    policy_key: str
    viewer: _registry_service_pb2.Viewer
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., deliverables: _Optional[_Iterable[_Union[DeliverableState, _Mapping]]] = ..., comment: _Optional[str] = ..., actor_id: _Optional[str] = ..., policy_key: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class OpenRequestResponse(_message.Message):
    __slots__ = ("request", "created")
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    request: AcceptanceRequest
    created: bool
    def __init__(self, request: _Optional[_Union[AcceptanceRequest, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class SettleRequestRequest(_message.Message):
    __slots__ = ("request_id", "acceptance_id", "status", "actor_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    acceptance_id: str
    status: str
    actor_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., acceptance_id: _Optional[str] = ..., status: _Optional[str] = ..., actor_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class SettleRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: AcceptanceRequest
    def __init__(self, request: _Optional[_Union[AcceptanceRequest, _Mapping]] = ...) -> None: ...

class GetAcceptanceRequest(_message.Message):
    __slots__ = ("project_id", "viewer")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    viewer: _registry_service_pb2.Viewer
    def __init__(self, project_id: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class GetAcceptanceResponse(_message.Message):
    __slots__ = ("checklist", "requests", "unattached")
    CHECKLIST_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    UNATTACHED_FIELD_NUMBER: _ClassVar[int]
    checklist: Checklist
    requests: _containers.RepeatedCompositeFieldContainer[AcceptanceRequest]
    unattached: _containers.RepeatedCompositeFieldContainer[AcceptanceDocument]
    def __init__(self, checklist: _Optional[_Union[Checklist, _Mapping]] = ..., requests: _Optional[_Iterable[_Union[AcceptanceRequest, _Mapping]]] = ..., unattached: _Optional[_Iterable[_Union[AcceptanceDocument, _Mapping]]] = ...) -> None: ...
