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

class ProjectStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROJECT_STATUS_UNSPECIFIED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_DRAFT: _ClassVar[ProjectStatus]
    PROJECT_STATUS_PENDING_APPROVAL: _ClassVar[ProjectStatus]
    PROJECT_STATUS_ACTIVE: _ClassVar[ProjectStatus]
    PROJECT_STATUS_CLOSED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_RETURNED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_REJECTED: _ClassVar[ProjectStatus]
    PROJECT_STATUS_CANCELLED: _ClassVar[ProjectStatus]
PROJECT_STATUS_UNSPECIFIED: ProjectStatus
PROJECT_STATUS_DRAFT: ProjectStatus
PROJECT_STATUS_PENDING_APPROVAL: ProjectStatus
PROJECT_STATUS_ACTIVE: ProjectStatus
PROJECT_STATUS_CLOSED: ProjectStatus
PROJECT_STATUS_RETURNED: ProjectStatus
PROJECT_STATUS_REJECTED: ProjectStatus
PROJECT_STATUS_CANCELLED: ProjectStatus

class Department(_message.Message):
    __slots__ = ("id", "name", "parent_id", "manager_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    parent_id: str
    manager_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., parent_id: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("id", "name", "email", "mobile", "department_id", "roles", "region", "left")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    MOBILE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    email: str
    mobile: str
    department_id: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    region: str
    left: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., mobile: _Optional[str] = ..., department_id: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., region: _Optional[str] = ..., left: _Optional[bool] = ...) -> None: ...

class UpsertOrgRequest(_message.Message):
    __slots__ = ("request_id", "departments", "users", "actor")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    departments: _containers.RepeatedCompositeFieldContainer[Department]
    users: _containers.RepeatedCompositeFieldContainer[User]
    actor: OrgActor
    def __init__(self, request_id: _Optional[str] = ..., departments: _Optional[_Iterable[_Union[Department, _Mapping]]] = ..., users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., actor: _Optional[_Union[OrgActor, _Mapping]] = ...) -> None: ...

class OrgActor(_message.Message):
    __slots__ = ("user_id", "roles", "is_admin")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    roles: _containers.RepeatedScalarFieldContainer[str]
    is_admin: bool
    def __init__(self, user_id: _Optional[str] = ..., roles: _Optional[_Iterable[str]] = ..., is_admin: _Optional[bool] = ...) -> None: ...

class OrgRefusal(_message.Message):
    __slots__ = ("field", "code", "message_zh", "message_en", "user_id", "department_id")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ZH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    field: str
    code: str
    message_zh: str
    message_en: str
    user_id: str
    department_id: str
    def __init__(self, field: _Optional[str] = ..., code: _Optional[str] = ..., message_zh: _Optional[str] = ..., message_en: _Optional[str] = ..., user_id: _Optional[str] = ..., department_id: _Optional[str] = ...) -> None: ...

class UpsertOrgResponse(_message.Message):
    __slots__ = ("departments", "users", "refused")
    DEPARTMENTS_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    departments: int
    users: int
    refused: _containers.RepeatedCompositeFieldContainer[OrgRefusal]
    def __init__(self, departments: _Optional[int] = ..., users: _Optional[int] = ..., refused: _Optional[_Iterable[_Union[OrgRefusal, _Mapping]]] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("user_ids", "role", "department_id")
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    role: str
    department_id: str
    def __init__(self, user_ids: _Optional[_Iterable[str]] = ..., role: _Optional[str] = ..., department_id: _Optional[str] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ...) -> None: ...

class GetManagerChainRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ManagerLink(_message.Message):
    __slots__ = ("department_id", "manager_id")
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    department_id: str
    manager_id: str
    def __init__(self, department_id: _Optional[str] = ..., manager_id: _Optional[str] = ...) -> None: ...

class GetManagerChainResponse(_message.Message):
    __slots__ = ("links", "user")
    LINKS_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    links: _containers.RepeatedCompositeFieldContainer[ManagerLink]
    user: User
    def __init__(self, links: _Optional[_Iterable[_Union[ManagerLink, _Mapping]]] = ..., user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class AccessToken(_message.Message):
    __slots__ = ("id", "user_id", "name", "scopes", "created_at", "expires_at", "last_used_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueTokenRequest(_message.Message):
    __slots__ = ("request_id", "user_id", "name", "scopes", "scopes_given", "expires_in_days", "now")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    SCOPES_GIVEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_IN_DAYS_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    user_id: str
    name: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    scopes_given: bool
    expires_in_days: int
    now: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., name: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., scopes_given: _Optional[bool] = ..., expires_in_days: _Optional[int] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueTokenResponse(_message.Message):
    __slots__ = ("token", "access_token")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    access_token: AccessToken
    def __init__(self, token: _Optional[str] = ..., access_token: _Optional[_Union[AccessToken, _Mapping]] = ...) -> None: ...

class AuthenticateRequest(_message.Message):
    __slots__ = ("token", "now")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    token: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AuthenticateResponse(_message.Message):
    __slots__ = ("user", "access_token")
    USER_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    user: User
    access_token: AccessToken
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., access_token: _Optional[_Union[AccessToken, _Mapping]] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[AccessToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[AccessToken, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("user_id", "token_id", "now")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    token_id: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., token_id: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RevokeTokenResponse(_message.Message):
    __slots__ = ("access_token",)
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    access_token: AccessToken
    def __init__(self, access_token: _Optional[_Union[AccessToken, _Mapping]] = ...) -> None: ...

class FormField(_message.Message):
    __slots__ = ("key", "label", "type", "required", "options", "min", "max", "min_length", "max_length", "pattern", "read_roles", "write_roles", "required_when", "visible_when", "default_value", "accept", "max_size")
    KEY_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    READ_ROLES_FIELD_NUMBER: _ClassVar[int]
    WRITE_ROLES_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_WHEN_FIELD_NUMBER: _ClassVar[int]
    VISIBLE_WHEN_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    key: str
    label: str
    type: str
    required: bool
    options: _containers.RepeatedScalarFieldContainer[str]
    min: str
    max: str
    min_length: int
    max_length: int
    pattern: str
    read_roles: _containers.RepeatedScalarFieldContainer[str]
    write_roles: _containers.RepeatedScalarFieldContainer[str]
    required_when: str
    visible_when: str
    default_value: _struct_pb2.Value
    accept: _containers.RepeatedScalarFieldContainer[str]
    max_size: int
    def __init__(self, key: _Optional[str] = ..., label: _Optional[str] = ..., type: _Optional[str] = ..., required: _Optional[bool] = ..., options: _Optional[_Iterable[str]] = ..., min: _Optional[str] = ..., max: _Optional[str] = ..., min_length: _Optional[int] = ..., max_length: _Optional[int] = ..., pattern: _Optional[str] = ..., read_roles: _Optional[_Iterable[str]] = ..., write_roles: _Optional[_Iterable[str]] = ..., required_when: _Optional[str] = ..., visible_when: _Optional[str] = ..., default_value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., accept: _Optional[_Iterable[str]] = ..., max_size: _Optional[int] = ...) -> None: ...

class FormRule(_message.Message):
    __slots__ = ("expr", "field", "message", "message_en")
    EXPR_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_EN_FIELD_NUMBER: _ClassVar[int]
    expr: str
    field: str
    message: str
    message_en: str
    def __init__(self, expr: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ..., message_en: _Optional[str] = ...) -> None: ...

class FormSettings(_message.Message):
    __slots__ = ("conflict_policy", "protection_days", "protection_extend_days", "protection_max_days", "protection_remind_days", "core_fields")
    CONFLICT_POLICY_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_DAYS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_EXTEND_DAYS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_MAX_DAYS_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_REMIND_DAYS_FIELD_NUMBER: _ClassVar[int]
    CORE_FIELDS_FIELD_NUMBER: _ClassVar[int]
    conflict_policy: str
    protection_days: int
    protection_extend_days: int
    protection_max_days: int
    protection_remind_days: int
    core_fields: _containers.RepeatedCompositeFieldContainer[CoreFieldAccess]
    def __init__(self, conflict_policy: _Optional[str] = ..., protection_days: _Optional[int] = ..., protection_extend_days: _Optional[int] = ..., protection_max_days: _Optional[int] = ..., protection_remind_days: _Optional[int] = ..., core_fields: _Optional[_Iterable[_Union[CoreFieldAccess, _Mapping]]] = ...) -> None: ...

class CoreFieldAccess(_message.Message):
    __slots__ = ("field", "read_roles")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    READ_ROLES_FIELD_NUMBER: _ClassVar[int]
    field: str
    read_roles: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, field: _Optional[str] = ..., read_roles: _Optional[_Iterable[str]] = ...) -> None: ...

class Form(_message.Message):
    __slots__ = ("key", "title", "version", "fields", "created_at", "settings", "rules")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    key: str
    title: str
    version: int
    fields: _containers.RepeatedCompositeFieldContainer[FormField]
    created_at: _timestamp_pb2.Timestamp
    settings: FormSettings
    rules: _containers.RepeatedCompositeFieldContainer[FormRule]
    def __init__(self, key: _Optional[str] = ..., title: _Optional[str] = ..., version: _Optional[int] = ..., fields: _Optional[_Iterable[_Union[FormField, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., settings: _Optional[_Union[FormSettings, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[FormRule, _Mapping]]] = ...) -> None: ...

class PutFormRequest(_message.Message):
    __slots__ = ("request_id", "key", "title", "fields", "settings", "rules")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    key: str
    title: str
    fields: _containers.RepeatedCompositeFieldContainer[FormField]
    settings: FormSettings
    rules: _containers.RepeatedCompositeFieldContainer[FormRule]
    def __init__(self, request_id: _Optional[str] = ..., key: _Optional[str] = ..., title: _Optional[str] = ..., fields: _Optional[_Iterable[_Union[FormField, _Mapping]]] = ..., settings: _Optional[_Union[FormSettings, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[FormRule, _Mapping]]] = ...) -> None: ...

class PutFormResponse(_message.Message):
    __slots__ = ("key", "version", "created")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    key: str
    version: int
    created: bool
    def __init__(self, key: _Optional[str] = ..., version: _Optional[int] = ..., created: _Optional[bool] = ...) -> None: ...

class GetFormRequest(_message.Message):
    __slots__ = ("key", "version")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    key: str
    version: int
    def __init__(self, key: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetFormResponse(_message.Message):
    __slots__ = ("form",)
    FORM_FIELD_NUMBER: _ClassVar[int]
    form: Form
    def __init__(self, form: _Optional[_Union[Form, _Mapping]] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("name", "uscc", "contact", "phone")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USCC_FIELD_NUMBER: _ClassVar[int]
    CONTACT_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    name: str
    uscc: str
    contact: str
    phone: str
    def __init__(self, name: _Optional[str] = ..., uscc: _Optional[str] = ..., contact: _Optional[str] = ..., phone: _Optional[str] = ...) -> None: ...

class Conflict(_message.Message):
    __slots__ = ("project_id", "reason", "score")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    reason: str
    score: float
    def __init__(self, project_id: _Optional[str] = ..., reason: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class HistoryEntry(_message.Message):
    __slots__ = ("at", "actor", "event", "data")
    AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    actor: str
    event: str
    data: _struct_pb2.Struct
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., event: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Project(_message.Message):
    __slots__ = ("id", "code", "status", "name", "customer", "amount", "region", "business_line", "start_date", "end_date", "fields", "form_key", "form_version", "owner_id", "department_id", "conflicts", "history", "version", "created_at", "updated_at", "protection", "external_source", "external_id", "hidden", "conflict_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    FORM_VERSION_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    status: ProjectStatus
    name: str
    customer: Customer
    amount: str
    region: str
    business_line: str
    start_date: str
    end_date: str
    fields: _struct_pb2.Struct
    form_key: str
    form_version: int
    owner_id: str
    department_id: str
    conflicts: _containers.RepeatedCompositeFieldContainer[Conflict]
    history: _containers.RepeatedCompositeFieldContainer[HistoryEntry]
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    protection: Protection
    external_source: str
    external_id: str
    hidden: _containers.RepeatedScalarFieldContainer[str]
    conflict_count: int
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ..., status: _Optional[_Union[ProjectStatus, str]] = ..., name: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., amount: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., form_key: _Optional[str] = ..., form_version: _Optional[int] = ..., owner_id: _Optional[str] = ..., department_id: _Optional[str] = ..., conflicts: _Optional[_Iterable[_Union[Conflict, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[HistoryEntry, _Mapping]]] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., protection: _Optional[_Union[Protection, _Mapping]] = ..., external_source: _Optional[str] = ..., external_id: _Optional[str] = ..., hidden: _Optional[_Iterable[str]] = ..., conflict_count: _Optional[int] = ...) -> None: ...

class Protection(_message.Message):
    __slots__ = ("state", "since", "until", "position", "holder_project_id", "follow_ups", "cap")
    STATE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    HOLDER_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_UPS_FIELD_NUMBER: _ClassVar[int]
    CAP_FIELD_NUMBER: _ClassVar[int]
    state: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    position: int
    holder_project_id: str
    follow_ups: int
    cap: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., position: _Optional[int] = ..., holder_project_id: _Optional[str] = ..., follow_ups: _Optional[int] = ..., cap: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Viewer(_message.Message):
    __slots__ = ("user_id", "is_admin", "roles", "approver_project_ids", "assignee_project_ids")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    APPROVER_PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    is_admin: bool
    roles: _containers.RepeatedScalarFieldContainer[str]
    approver_project_ids: _containers.RepeatedScalarFieldContainer[str]
    assignee_project_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., is_admin: _Optional[bool] = ..., roles: _Optional[_Iterable[str]] = ..., approver_project_ids: _Optional[_Iterable[str]] = ..., assignee_project_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ("request_id", "owner_id", "form_key", "name", "customer", "amount", "region", "business_line", "start_date", "end_date", "fields", "owner_is_admin", "external_source", "external_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    START_DATE_FIELD_NUMBER: _ClassVar[int]
    END_DATE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    OWNER_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    owner_id: str
    form_key: str
    name: str
    customer: Customer
    amount: str
    region: str
    business_line: str
    start_date: str
    end_date: str
    fields: _struct_pb2.Struct
    owner_is_admin: bool
    external_source: str
    external_id: str
    def __init__(self, request_id: _Optional[str] = ..., owner_id: _Optional[str] = ..., form_key: _Optional[str] = ..., name: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., amount: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., start_date: _Optional[str] = ..., end_date: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., owner_is_admin: _Optional[bool] = ..., external_source: _Optional[str] = ..., external_id: _Optional[str] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ("project", "existing")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    project: Project
    existing: bool
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., existing: _Optional[bool] = ...) -> None: ...

class GetProjectRequest(_message.Message):
    __slots__ = ("project_id", "viewer")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    viewer: Viewer
    def __init__(self, project_id: _Optional[str] = ..., viewer: _Optional[_Union[Viewer, _Mapping]] = ...) -> None: ...

class RecipientRedactionsRequest(_message.Message):
    __slots__ = ("project_id", "user_ids")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RecipientHidden(_message.Message):
    __slots__ = ("user_id", "hidden")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    HIDDEN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    hidden: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, user_id: _Optional[str] = ..., hidden: _Optional[_Iterable[str]] = ...) -> None: ...

class RecipientRedactionsResponse(_message.Message):
    __slots__ = ("project", "recipients")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    project: Project
    recipients: _containers.RepeatedCompositeFieldContainer[RecipientHidden]
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., recipients: _Optional[_Iterable[_Union[RecipientHidden, _Mapping]]] = ...) -> None: ...

class GetProjectResponse(_message.Message):
    __slots__ = ("project", "viewer_relations")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VIEWER_RELATIONS_FIELD_NUMBER: _ClassVar[int]
    project: Project
    viewer_relations: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., viewer_relations: _Optional[_Iterable[str]] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ("viewer", "status", "q", "limit", "cursor", "owner_id", "department_id", "region", "business_line", "customer", "amount_min", "amount_max", "created_from", "created_to", "form_key", "codes")
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    Q_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MIN_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MAX_FIELD_NUMBER: _ClassVar[int]
    CREATED_FROM_FIELD_NUMBER: _ClassVar[int]
    CREATED_TO_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    CODES_FIELD_NUMBER: _ClassVar[int]
    viewer: Viewer
    status: ProjectStatus
    q: str
    limit: int
    cursor: str
    owner_id: str
    department_id: str
    region: str
    business_line: str
    customer: str
    amount_min: str
    amount_max: str
    created_from: str
    created_to: str
    form_key: str
    codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, viewer: _Optional[_Union[Viewer, _Mapping]] = ..., status: _Optional[_Union[ProjectStatus, str]] = ..., q: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., owner_id: _Optional[str] = ..., department_id: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., customer: _Optional[str] = ..., amount_min: _Optional[str] = ..., amount_max: _Optional[str] = ..., created_from: _Optional[str] = ..., created_to: _Optional[str] = ..., form_key: _Optional[str] = ..., codes: _Optional[_Iterable[str]] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Project]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[Project, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class CheckConflictsRequest(_message.Message):
    __slots__ = ("viewer", "form_key", "customer", "project_name", "project_id")
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    PROJECT_NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    viewer: Viewer
    form_key: str
    customer: Customer
    project_name: str
    project_id: str
    def __init__(self, viewer: _Optional[_Union[Viewer, _Mapping]] = ..., form_key: _Optional[str] = ..., customer: _Optional[_Union[Customer, _Mapping]] = ..., project_name: _Optional[str] = ..., project_id: _Optional[str] = ...) -> None: ...

class ConflictMatch(_message.Message):
    __slots__ = ("project_id", "reason", "code")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    reason: str
    code: str
    def __init__(self, project_id: _Optional[str] = ..., reason: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class CheckConflictsResponse(_message.Message):
    __slots__ = ("conflicts", "conflict_policy")
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_POLICY_FIELD_NUMBER: _ClassVar[int]
    conflicts: _containers.RepeatedCompositeFieldContainer[ConflictMatch]
    conflict_policy: str
    def __init__(self, conflicts: _Optional[_Iterable[_Union[ConflictMatch, _Mapping]]] = ..., conflict_policy: _Optional[str] = ...) -> None: ...

class SubmitProjectRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "actor_id", "actor_is_admin", "report_event_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    REPORT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool
    report_event_id: str
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., report_event_id: _Optional[str] = ...) -> None: ...

class SubmitProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class SetProjectStatusRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "status", "actor_id", "event", "comment", "report_event_id", "start_protection")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REPORT_EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_PROTECTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    status: ProjectStatus
    actor_id: str
    event: str
    comment: str
    report_event_id: str
    start_protection: StartProtectionRequest
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., status: _Optional[_Union[ProjectStatus, str]] = ..., actor_id: _Optional[str] = ..., event: _Optional[str] = ..., comment: _Optional[str] = ..., report_event_id: _Optional[str] = ..., start_protection: _Optional[_Union[StartProtectionRequest, _Mapping]] = ...) -> None: ...

class ClaimEventsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class OutboxEvent(_message.Message):
    __slots__ = ("seq", "event")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    event: bytes
    def __init__(self, seq: _Optional[int] = ..., event: _Optional[bytes] = ...) -> None: ...

class ClaimEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[OutboxEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[OutboxEvent, _Mapping]]] = ...) -> None: ...

class AckEventsRequest(_message.Message):
    __slots__ = ("seqs",)
    SEQS_FIELD_NUMBER: _ClassVar[int]
    seqs: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seqs: _Optional[_Iterable[int]] = ...) -> None: ...

class AckEventsResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: int
    def __init__(self, acknowledged: _Optional[int] = ...) -> None: ...

class SetProjectStatusResponse(_message.Message):
    __slots__ = ("project", "promoted", "protection")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    PROTECTION_FIELD_NUMBER: _ClassVar[int]
    project: Project
    promoted: _containers.RepeatedCompositeFieldContainer[Promoted]
    protection: ProtectionResponse
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., promoted: _Optional[_Iterable[_Union[Promoted, _Mapping]]] = ..., protection: _Optional[_Union[ProtectionResponse, _Mapping]] = ...) -> None: ...

class Promoted(_message.Message):
    __slots__ = ("project_id", "status")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    status: ProjectStatus
    def __init__(self, project_id: _Optional[str] = ..., status: _Optional[_Union[ProjectStatus, str]] = ...) -> None: ...

class UpdateProjectRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "actor_id", "actor_is_admin", "actor_roles", "expected_version", "changes")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool
    actor_roles: _containers.RepeatedScalarFieldContainer[str]
    expected_version: int
    changes: _struct_pb2.Struct
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., actor_roles: _Optional[_Iterable[str]] = ..., expected_version: _Optional[int] = ..., changes: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UpdateProjectResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class RecordFollowUpRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "actor_id", "actor_is_admin", "note")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool
    note: str
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class RecordFollowUpResponse(_message.Message):
    __slots__ = ("project",)
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: Project
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ...) -> None: ...

class StartProtectionRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExpireProtectionRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ProtectionResponse(_message.Message):
    __slots__ = ("protection", "remind_at", "promoted", "owner_id", "code", "name")
    PROTECTION_FIELD_NUMBER: _ClassVar[int]
    REMIND_AT_FIELD_NUMBER: _ClassVar[int]
    PROMOTED_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    protection: Protection
    remind_at: _timestamp_pb2.Timestamp
    promoted: _containers.RepeatedCompositeFieldContainer[Promoted]
    owner_id: str
    code: str
    name: str
    def __init__(self, protection: _Optional[_Union[Protection, _Mapping]] = ..., remind_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., promoted: _Optional[_Iterable[_Union[Promoted, _Mapping]]] = ..., owner_id: _Optional[str] = ..., code: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class UploadAttachmentRequest(_message.Message):
    __slots__ = ("request_id", "filename", "content_type", "data", "uploader_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    UPLOADER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    filename: str
    content_type: str
    data: bytes
    uploader_id: str
    def __init__(self, request_id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., data: _Optional[bytes] = ..., uploader_id: _Optional[str] = ...) -> None: ...

class Attachment(_message.Message):
    __slots__ = ("id", "filename", "content_type", "size", "uploader_id", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    UPLOADER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    filename: str
    content_type: str
    size: int
    uploader_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., uploader_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UploadAttachmentResponse(_message.Message):
    __slots__ = ("attachment",)
    ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    attachment: Attachment
    def __init__(self, attachment: _Optional[_Union[Attachment, _Mapping]] = ...) -> None: ...

class GetAttachmentRequest(_message.Message):
    __slots__ = ("attachment_id", "viewer", "with_content")
    ATTACHMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    WITH_CONTENT_FIELD_NUMBER: _ClassVar[int]
    attachment_id: str
    viewer: Viewer
    with_content: bool
    def __init__(self, attachment_id: _Optional[str] = ..., viewer: _Optional[_Union[Viewer, _Mapping]] = ..., with_content: _Optional[bool] = ...) -> None: ...

class GetAttachmentResponse(_message.Message):
    __slots__ = ("attachment", "data")
    ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    attachment: Attachment
    data: bytes
    def __init__(self, attachment: _Optional[_Union[Attachment, _Mapping]] = ..., data: _Optional[bytes] = ...) -> None: ...

class LinkAttachmentsRequest(_message.Message):
    __slots__ = ("project_id", "attachment_ids", "viewer", "kind")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    attachment_ids: _containers.RepeatedScalarFieldContainer[str]
    viewer: Viewer
    kind: str
    def __init__(self, project_id: _Optional[str] = ..., attachment_ids: _Optional[_Iterable[str]] = ..., viewer: _Optional[_Union[Viewer, _Mapping]] = ..., kind: _Optional[str] = ...) -> None: ...

class LinkAttachmentsResponse(_message.Message):
    __slots__ = ("attachment_ids",)
    ATTACHMENT_IDS_FIELD_NUMBER: _ClassVar[int]
    attachment_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, attachment_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportProjectsRequest(_message.Message):
    __slots__ = ("request_id", "form_key", "actor_id", "actor_is_admin", "data", "filename", "dry_run", "skip_invalid")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    SKIP_INVALID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    form_key: str
    actor_id: str
    actor_is_admin: bool
    data: bytes
    filename: str
    dry_run: bool
    skip_invalid: bool
    def __init__(self, request_id: _Optional[str] = ..., form_key: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., data: _Optional[bytes] = ..., filename: _Optional[str] = ..., dry_run: _Optional[bool] = ..., skip_invalid: _Optional[bool] = ...) -> None: ...

class ImportRowError(_message.Message):
    __slots__ = ("row", "column", "field", "message")
    ROW_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    row: int
    column: str
    field: str
    message: str
    def __init__(self, row: _Optional[int] = ..., column: _Optional[str] = ..., field: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class StartImportJobRequest(_message.Message):
    __slots__ = ("request_id", "form_key", "actor_id", "actor_is_admin", "data", "filename", "dry_run", "skip_invalid")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    SKIP_INVALID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    form_key: str
    actor_id: str
    actor_is_admin: bool
    data: bytes
    filename: str
    dry_run: bool
    skip_invalid: bool
    def __init__(self, request_id: _Optional[str] = ..., form_key: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., data: _Optional[bytes] = ..., filename: _Optional[str] = ..., dry_run: _Optional[bool] = ..., skip_invalid: _Optional[bool] = ...) -> None: ...

class GetImportJobRequest(_message.Message):
    __slots__ = ("job_id", "viewer")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    viewer: Viewer
    def __init__(self, job_id: _Optional[str] = ..., viewer: _Optional[_Union[Viewer, _Mapping]] = ...) -> None: ...

class MarkImportJobLifecyclesRequest(_message.Message):
    __slots__ = ("job_id", "viewer")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    viewer: Viewer
    def __init__(self, job_id: _Optional[str] = ..., viewer: _Optional[_Union[Viewer, _Mapping]] = ...) -> None: ...

class ImportJob(_message.Message):
    __slots__ = ("id", "status", "form_key", "actor_id", "filename", "dry_run", "skip_invalid", "rows_total", "rows_checked", "rows_done", "created", "existing", "invalid", "errors", "project_ids", "reason", "attempts", "lifecycles_started", "created_at", "updated_at", "finished_at", "updated", "unchanged", "changes", "changes_total", "updated_ids")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    SKIP_INVALID_FIELD_NUMBER: _ClassVar[int]
    ROWS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ROWS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ROWS_DONE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    INVALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LIFECYCLES_STARTED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    CHANGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    UPDATED_IDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: str
    form_key: str
    actor_id: str
    filename: str
    dry_run: bool
    skip_invalid: bool
    rows_total: int
    rows_checked: int
    rows_done: int
    created: int
    existing: int
    invalid: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    reason: str
    attempts: int
    lifecycles_started: bool
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    updated: int
    unchanged: int
    changes: _containers.RepeatedCompositeFieldContainer[ImportRowChange]
    changes_total: int
    updated_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., status: _Optional[str] = ..., form_key: _Optional[str] = ..., actor_id: _Optional[str] = ..., filename: _Optional[str] = ..., dry_run: _Optional[bool] = ..., skip_invalid: _Optional[bool] = ..., rows_total: _Optional[int] = ..., rows_checked: _Optional[int] = ..., rows_done: _Optional[int] = ..., created: _Optional[int] = ..., existing: _Optional[int] = ..., invalid: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ..., project_ids: _Optional[_Iterable[str]] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ..., lifecycles_started: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[ImportRowChange, _Mapping]]] = ..., changes_total: _Optional[int] = ..., updated_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ImportJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: ImportJob
    def __init__(self, job: _Optional[_Union[ImportJob, _Mapping]] = ...) -> None: ...

class ImportRowChange(_message.Message):
    __slots__ = ("row", "column", "field", "before", "after", "message", "kind")
    ROW_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    row: int
    column: str
    field: str
    before: str
    after: str
    message: str
    kind: str
    def __init__(self, row: _Optional[int] = ..., column: _Optional[str] = ..., field: _Optional[str] = ..., before: _Optional[str] = ..., after: _Optional[str] = ..., message: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class ImportProjectsResponse(_message.Message):
    __slots__ = ("rows", "created", "existing", "invalid", "errors", "project_ids", "dry_run", "updated", "unchanged", "changes", "updated_ids", "changes_total")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    INVALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    UPDATED_IDS_FIELD_NUMBER: _ClassVar[int]
    CHANGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    rows: int
    created: int
    existing: int
    invalid: int
    errors: _containers.RepeatedCompositeFieldContainer[ImportRowError]
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    updated: int
    unchanged: int
    changes: _containers.RepeatedCompositeFieldContainer[ImportRowChange]
    updated_ids: _containers.RepeatedScalarFieldContainer[str]
    changes_total: int
    def __init__(self, rows: _Optional[int] = ..., created: _Optional[int] = ..., existing: _Optional[int] = ..., invalid: _Optional[int] = ..., errors: _Optional[_Iterable[_Union[ImportRowError, _Mapping]]] = ..., project_ids: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ..., updated: _Optional[int] = ..., unchanged: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[ImportRowChange, _Mapping]]] = ..., updated_ids: _Optional[_Iterable[str]] = ..., changes_total: _Optional[int] = ...) -> None: ...

class Branding(_message.Message):
    __slots__ = ("company_name", "has_logo", "logo_type", "logo", "logo_width", "logo_height", "logo_sha256", "version", "updated_at", "updated_by")
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    HAS_LOGO_FIELD_NUMBER: _ClassVar[int]
    LOGO_TYPE_FIELD_NUMBER: _ClassVar[int]
    LOGO_FIELD_NUMBER: _ClassVar[int]
    LOGO_WIDTH_FIELD_NUMBER: _ClassVar[int]
    LOGO_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    LOGO_SHA256_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    company_name: str
    has_logo: bool
    logo_type: str
    logo: bytes
    logo_width: int
    logo_height: int
    logo_sha256: str
    version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, company_name: _Optional[str] = ..., has_logo: _Optional[bool] = ..., logo_type: _Optional[str] = ..., logo: _Optional[bytes] = ..., logo_width: _Optional[int] = ..., logo_height: _Optional[int] = ..., logo_sha256: _Optional[str] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class GetBrandingRequest(_message.Message):
    __slots__ = ("with_logo",)
    WITH_LOGO_FIELD_NUMBER: _ClassVar[int]
    with_logo: bool
    def __init__(self, with_logo: _Optional[bool] = ...) -> None: ...

class PutBrandingRequest(_message.Message):
    __slots__ = ("company_name", "logo", "remove_logo", "actor_id", "now")
    COMPANY_NAME_FIELD_NUMBER: _ClassVar[int]
    LOGO_FIELD_NUMBER: _ClassVar[int]
    REMOVE_LOGO_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    company_name: str
    logo: bytes
    remove_logo: bool
    actor_id: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, company_name: _Optional[str] = ..., logo: _Optional[bytes] = ..., remove_logo: _Optional[bool] = ..., actor_id: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TeamMember(_message.Message):
    __slots__ = ("user_id", "role", "added_by", "added_at", "name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ADDED_BY_FIELD_NUMBER: _ClassVar[int]
    ADDED_AT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    role: str
    added_by: str
    added_at: _timestamp_pb2.Timestamp
    name: str
    def __init__(self, user_id: _Optional[str] = ..., role: _Optional[str] = ..., added_by: _Optional[str] = ..., added_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., name: _Optional[str] = ...) -> None: ...

class GetTeamRequest(_message.Message):
    __slots__ = ("project_id", "viewer")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    VIEWER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    viewer: Viewer
    def __init__(self, project_id: _Optional[str] = ..., viewer: _Optional[_Union[Viewer, _Mapping]] = ...) -> None: ...

class TeamResponse(_message.Message):
    __slots__ = ("project_id", "members", "owner_id", "can_edit")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    CAN_EDIT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    members: _containers.RepeatedCompositeFieldContainer[TeamMember]
    owner_id: str
    can_edit: bool
    def __init__(self, project_id: _Optional[str] = ..., members: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ..., owner_id: _Optional[str] = ..., can_edit: _Optional[bool] = ...) -> None: ...

class SetTeamRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "actor_id", "actor_is_admin", "members")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool
    members: _containers.RepeatedCompositeFieldContainer[TeamMember]
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ..., members: _Optional[_Iterable[_Union[TeamMember, _Mapping]]] = ...) -> None: ...

class HandOverProjectsRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "from_user_id", "to_user_id", "actor_id", "reason", "include_closed")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    from_user_id: str
    to_user_id: str
    actor_id: str
    reason: str
    include_closed: bool
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., from_user_id: _Optional[str] = ..., to_user_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., reason: _Optional[str] = ..., include_closed: _Optional[bool] = ...) -> None: ...

class HandedOver(_message.Message):
    __slots__ = ("project_id", "code", "name", "from_user_id", "status")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FROM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    code: str
    name: str
    from_user_id: str
    status: ProjectStatus
    def __init__(self, project_id: _Optional[str] = ..., code: _Optional[str] = ..., name: _Optional[str] = ..., from_user_id: _Optional[str] = ..., status: _Optional[_Union[ProjectStatus, str]] = ...) -> None: ...

class HandOverProjectsResponse(_message.Message):
    __slots__ = ("projects", "to_user_id")
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    projects: _containers.RepeatedCompositeFieldContainer[HandedOver]
    to_user_id: str
    def __init__(self, projects: _Optional[_Iterable[_Union[HandedOver, _Mapping]]] = ..., to_user_id: _Optional[str] = ...) -> None: ...

class CopyProjectRequest(_message.Message):
    __slots__ = ("request_id", "project_id", "actor_id", "actor_is_admin")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project_id: str
    actor_id: str
    actor_is_admin: bool
    def __init__(self, request_id: _Optional[str] = ..., project_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_is_admin: _Optional[bool] = ...) -> None: ...

class CopyProjectResponse(_message.Message):
    __slots__ = ("project", "source_project_id")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project: Project
    source_project_id: str
    def __init__(self, project: _Optional[_Union[Project, _Mapping]] = ..., source_project_id: _Optional[str] = ...) -> None: ...
