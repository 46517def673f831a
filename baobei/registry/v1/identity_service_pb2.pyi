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

class Provider(_message.Message):
    __slots__ = ("key", "type", "name", "enabled", "config", "secrets", "secrets_set", "version", "updated_at", "updated_by")
    KEY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    SECRETS_SET_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    key: str
    type: str
    name: str
    enabled: bool
    config: _struct_pb2.Struct
    secrets: _struct_pb2.Struct
    secrets_set: _containers.RepeatedScalarFieldContainer[str]
    version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    def __init__(self, key: _Optional[str] = ..., type: _Optional[str] = ..., name: _Optional[str] = ..., enabled: _Optional[bool] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., secrets: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., secrets_set: _Optional[_Iterable[str]] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ...) -> None: ...

class PutProviderRequest(_message.Message):
    __slots__ = ("request_id", "provider", "clear_secrets", "actor_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CLEAR_SECRETS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    provider: Provider
    clear_secrets: _containers.RepeatedScalarFieldContainer[str]
    actor_id: str
    def __init__(self, request_id: _Optional[str] = ..., provider: _Optional[_Union[Provider, _Mapping]] = ..., clear_secrets: _Optional[_Iterable[str]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class GetProviderRequest(_message.Message):
    __slots__ = ("key", "with_secrets")
    KEY_FIELD_NUMBER: _ClassVar[int]
    WITH_SECRETS_FIELD_NUMBER: _ClassVar[int]
    key: str
    with_secrets: bool
    def __init__(self, key: _Optional[str] = ..., with_secrets: _Optional[bool] = ...) -> None: ...

class ListProvidersRequest(_message.Message):
    __slots__ = ("enabled_only",)
    ENABLED_ONLY_FIELD_NUMBER: _ClassVar[int]
    enabled_only: bool
    def __init__(self, enabled_only: _Optional[bool] = ...) -> None: ...

class ListProvidersResponse(_message.Message):
    __slots__ = ("providers",)
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    providers: _containers.RepeatedCompositeFieldContainer[Provider]
    def __init__(self, providers: _Optional[_Iterable[_Union[Provider, _Mapping]]] = ...) -> None: ...

class DeleteProviderRequest(_message.Message):
    __slots__ = ("request_id", "key", "actor_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    key: str
    actor_id: str
    def __init__(self, request_id: _Optional[str] = ..., key: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class DeleteProviderResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class ResolveIdentityRequest(_message.Message):
    __slots__ = ("request_id", "provider_key", "subject", "match_field", "match_value", "display", "platform_user_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_KEY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_FIELD_NUMBER: _ClassVar[int]
    MATCH_VALUE_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    provider_key: str
    subject: str
    match_field: str
    match_value: str
    display: str
    platform_user_id: str
    def __init__(self, request_id: _Optional[str] = ..., provider_key: _Optional[str] = ..., subject: _Optional[str] = ..., match_field: _Optional[str] = ..., match_value: _Optional[str] = ..., display: _Optional[str] = ..., platform_user_id: _Optional[str] = ...) -> None: ...

class ResolveIdentityResponse(_message.Message):
    __slots__ = ("user", "linked_now")
    USER_FIELD_NUMBER: _ClassVar[int]
    LINKED_NOW_FIELD_NUMBER: _ClassVar[int]
    user: _registry_service_pb2.User
    linked_now: bool
    def __init__(self, user: _Optional[_Union[_registry_service_pb2.User, _Mapping]] = ..., linked_now: _Optional[bool] = ...) -> None: ...

class IdentityLink(_message.Message):
    __slots__ = ("provider_key", "subject", "user_id", "display", "linked_at", "last_sign_in_at", "platform_user_id")
    PROVIDER_KEY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_FIELD_NUMBER: _ClassVar[int]
    LINKED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_SIGN_IN_AT_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    provider_key: str
    subject: str
    user_id: str
    display: str
    linked_at: _timestamp_pb2.Timestamp
    last_sign_in_at: _timestamp_pb2.Timestamp
    platform_user_id: str
    def __init__(self, provider_key: _Optional[str] = ..., subject: _Optional[str] = ..., user_id: _Optional[str] = ..., display: _Optional[str] = ..., linked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sign_in_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., platform_user_id: _Optional[str] = ...) -> None: ...

class ListIdentityLinksRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListIdentityLinksResponse(_message.Message):
    __slots__ = ("links",)
    LINKS_FIELD_NUMBER: _ClassVar[int]
    links: _containers.RepeatedCompositeFieldContainer[IdentityLink]
    def __init__(self, links: _Optional[_Iterable[_Union[IdentityLink, _Mapping]]] = ...) -> None: ...

class DeleteIdentityLinkRequest(_message.Message):
    __slots__ = ("request_id", "user_id", "provider_key")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_KEY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    user_id: str
    provider_key: str
    def __init__(self, request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., provider_key: _Optional[str] = ...) -> None: ...

class DeleteIdentityLinkResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...
