import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from baobei.registry.v1 import registry_service_pb2 as _registry_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Comment(_message.Message):
    __slots__ = ("id", "project_id", "anchor", "author_id", "author_name", "body", "mentions", "parent_id", "reply_to_id", "created_at", "deleted", "deleted_at", "deleted_by", "mention_names")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MENTIONS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    DELETED_AT_FIELD_NUMBER: _ClassVar[int]
    DELETED_BY_FIELD_NUMBER: _ClassVar[int]
    MENTION_NAMES_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    anchor: str
    author_id: str
    author_name: str
    body: str
    mentions: _containers.RepeatedScalarFieldContainer[str]
    parent_id: str
    reply_to_id: str
    created_at: _timestamp_pb2.Timestamp
    deleted: bool
    deleted_at: _timestamp_pb2.Timestamp
    deleted_by: str
    mention_names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., anchor: _Optional[str] = ..., author_id: _Optional[str] = ..., author_name: _Optional[str] = ..., body: _Optional[str] = ..., mentions: _Optional[_Iterable[str]] = ..., parent_id: _Optional[str] = ..., reply_to_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted: _Optional[bool] = ..., deleted_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deleted_by: _Optional[str] = ..., mention_names: _Optional[_Iterable[str]] = ...) -> None: ...

class CommentThread(_message.Message):
    __slots__ = ("comment", "replies")
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REPLIES_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    replies: _containers.RepeatedCompositeFieldContainer[Comment]
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ..., replies: _Optional[_Iterable[_Union[Comment, _Mapping]]] = ...) -> None: ...

class CreateCommentRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "viewer", "anchor", "body", "mentions", "parent_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    MENTIONS_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    viewer: _registry_service_pb2.Viewer
    anchor: str
    body: str
    mentions: _containers.RepeatedCompositeFieldContainer[_registry_service_pb2.Viewer]
    parent_id: str
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ..., anchor: _Optional[str] = ..., body: _Optional[str] = ..., mentions: _Optional[_Iterable[_Union[_registry_service_pb2.Viewer, _Mapping]]] = ..., parent_id: _Optional[str] = ...) -> None: ...

class CreateCommentResponse(_message.Message):
    __slots__ = ("comment", "created", "project_code", "project_name", "reply_to_author_id")
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    REPLY_TO_AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    created: bool
    project_code: str
    project_name: str
    reply_to_author_id: str
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ..., created: _Optional[bool] = ..., project_code: _Optional[str] = ..., project_name: _Optional[str] = ..., reply_to_author_id: _Optional[str] = ...) -> None: ...

class ListCommentsRequest(_message.Message):
    __slots__ = ("project_id", "viewer", "anchor", "limit", "cursor")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    viewer: _registry_service_pb2.Viewer
    anchor: str
    limit: int
    cursor: str
    def __init__(self, project_id: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ..., anchor: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListCommentsResponse(_message.Message):
    __slots__ = ("threads", "next_cursor", "total")
    THREADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[CommentThread]
    next_cursor: str
    total: int
    def __init__(self, threads: _Optional[_Iterable[_Union[CommentThread, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., total: _Optional[int] = ...) -> None: ...

class DeleteCommentRequest(_message.Message):
    __slots__ = ("request_id", "comment_id", "viewer")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    comment_id: str
    viewer: _registry_service_pb2.Viewer
    def __init__(self, request_id: _Optional[str] = ..., comment_id: _Optional[str] = ..., viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ...) -> None: ...

class DeleteCommentResponse(_message.Message):
    __slots__ = ("comment",)
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    comment: Comment
    def __init__(self, comment: _Optional[_Union[Comment, _Mapping]] = ...) -> None: ...

class CheckMentionsRequest(_message.Message):
    __slots__ = ("project_id", "mentions", "author_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MENTIONS_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    mentions: _containers.RepeatedCompositeFieldContainer[_registry_service_pb2.Viewer]
    author_id: str
    def __init__(self, project_id: _Optional[str] = ..., mentions: _Optional[_Iterable[_Union[_registry_service_pb2.Viewer, _Mapping]]] = ..., author_id: _Optional[str] = ...) -> None: ...

class CheckMentionsResponse(_message.Message):
    __slots__ = ("user_ids", "project_code", "project_name")
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_CODE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    project_code: str
    project_name: str
    def __init__(self, user_ids: _Optional[_Iterable[str]] = ..., project_code: _Optional[str] = ..., project_name: _Optional[str] = ...) -> None: ...
