import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from baobei.registry.v1 import registry_service_pb2 as _registry_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DirectoryUser(_message.Message):
    __slots__ = ("id", "name", "department_id", "department_name", "roles", "left", "contact_visible", "email", "mobile", "region")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_NAME_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    CONTACT_VISIBLE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    MOBILE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    department_id: str
    department_name: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    left: bool
    contact_visible: bool
    email: str
    mobile: str
    region: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., department_id: _Optional[str] = ..., department_name: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., left: _Optional[bool] = ..., contact_visible: _Optional[bool] = ..., email: _Optional[str] = ..., mobile: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class OrgDepartment(_message.Message):
    __slots__ = ("id", "name", "parent_id", "manager_id", "manager_name", "manager_left", "member_count", "total_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_NAME_FIELD_NUMBER: _ClassVar[int]
    MANAGER_LEFT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    parent_id: str
    manager_id: str
    manager_name: str
    manager_left: bool
    member_count: int
    total_count: int
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., parent_id: _Optional[str] = ..., manager_id: _Optional[str] = ..., manager_name: _Optional[str] = ..., manager_left: _Optional[bool] = ..., member_count: _Optional[int] = ..., total_count: _Optional[int] = ...) -> None: ...

class GetOrgTreeRequest(_message.Message):
    __slots__ = ("viewer", "include_left")
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LEFT_FIELD_NUMBER: _ClassVar[int]
    viewer: _registry_service_pb2.Viewer
    include_left: bool
    def __init__(self, viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ..., include_left: _Optional[bool] = ...) -> None: ...

class GetOrgTreeResponse(_message.Message):
    __slots__ = ("departments", "unassigned_count")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_COUNT_FIELD_NUMBER: _ClassVar[int]
    departments: _containers.RepeatedCompositeFieldContainer[OrgDepartment]
    unassigned_count: int
    def __init__(self, departments: _Optional[_Iterable[_Union[OrgDepartment, _Mapping]]] = ..., unassigned_count: _Optional[int] = ...) -> None: ...

class SearchUsersRequest(_message.Message):
    __slots__ = ("viewer", "q", "department_id", "recursive", "role", "include_left", "limit", "cursor")
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECURSIVE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_LEFT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    viewer: _registry_service_pb2.Viewer
    q: str
    department_id: str
    recursive: bool
    role: str
    include_left: bool
    limit: int
    cursor: str
    def __init__(self, viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ..., q: _Optional[str] = ..., department_id: _Optional[str] = ..., recursive: _Optional[bool] = ..., role: _Optional[str] = ..., include_left: _Optional[bool] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class SearchUsersResponse(_message.Message):
    __slots__ = ("users", "next_cursor")
    USERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[DirectoryUser]
    next_cursor: str
    def __init__(self, users: _Optional[_Iterable[_Union[DirectoryUser, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetDirectoryUserRequest(_message.Message):
    __slots__ = ("viewer", "user_id")
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    viewer: _registry_service_pb2.Viewer
    user_id: str
    def __init__(self, viewer: _Optional[_Union[_registry_service_pb2.Viewer, _Mapping]] = ..., user_id: _Optional[str] = ...) -> None: ...

class TokenEntry(_message.Message):
    __slots__ = ("token", "user_name", "expired")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    USER_NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    token: _registry_service_pb2.AccessToken
    user_name: str
    expired: bool
    def __init__(self, token: _Optional[_Union[_registry_service_pb2.AccessToken, _Mapping]] = ..., user_name: _Optional[str] = ..., expired: _Optional[bool] = ...) -> None: ...

class ListAccessTokensRequest(_message.Message):
    __slots__ = ("user_id", "expiring_before", "include_expired", "now", "limit", "cursor")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_BEFORE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    expiring_before: _timestamp_pb2.Timestamp
    include_expired: bool
    now: _timestamp_pb2.Timestamp
    limit: int
    cursor: str
    def __init__(self, user_id: _Optional[str] = ..., expiring_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., include_expired: _Optional[bool] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListAccessTokensResponse(_message.Message):
    __slots__ = ("tokens", "next_cursor")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[TokenEntry]
    next_cursor: str
    def __init__(self, tokens: _Optional[_Iterable[_Union[TokenEntry, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class IssueOwnTokenRequest(_message.Message):
    __slots__ = ("request_id", "user_id", "name", "scopes", "scopes_given", "expires_in_days", "via_token_id", "now")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    SCOPES_GIVEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_DAYS_FIELD_NUMBER: _ClassVar[int]
    VIA_TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    user_id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    scopes_given: bool
    expires_in_days: int
    via_token_id: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., scopes_given: _Optional[bool] = ..., expires_in_days: _Optional[int] = ..., via_token_id: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
