import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from baobei.registry.v1 import registry_service_pb2 as _registry_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SignInRequest(_message.Message):
    __slots__ = ("login", "password", "totp_code", "now")
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    TOTP_CODE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    login: str
    password: str
    totp_code: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, login: _Optional[str] = ..., password: _Optional[str] = ..., totp_code: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SignInResponse(_message.Message):
    __slots__ = ("outcome", "user", "locked_until", "retry_after_seconds", "totp_enrolment_required", "user_id", "recovery_code_used", "recovery_codes_left")
    class Outcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        OUTCOME_UNSPECIFIED: _ClassVar[SignInResponse.Outcome]
        OK: _ClassVar[SignInResponse.Outcome]
        INVALID_CREDENTIALS: _ClassVar[SignInResponse.Outcome]
        LOCKED: _ClassVar[SignInResponse.Outcome]
        TOTP_REQUIRED: _ClassVar[SignInResponse.Outcome]
        TOTP_INVALID: _ClassVar[SignInResponse.Outcome]
        USER_LEFT: _ClassVar[SignInResponse.Outcome]
    OUTCOME_UNSPECIFIED: SignInResponse.Outcome
    OK: SignInResponse.Outcome
    INVALID_CREDENTIALS: SignInResponse.Outcome
    LOCKED: SignInResponse.Outcome
    TOTP_REQUIRED: SignInResponse.Outcome
    TOTP_INVALID: SignInResponse.Outcome
    USER_LEFT: SignInResponse.Outcome
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    LOCKED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TOTP_ENROLMENT_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_CODE_USED_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_CODES_LEFT_FIELD_NUMBER: _ClassVar[int]
    outcome: SignInResponse.Outcome
    user: _registry_service_pb2.User
    locked_until: _timestamp_pb2.Timestamp
    retry_after_seconds: int
    totp_enrolment_required: bool
    user_id: str
    recovery_code_used: bool
    recovery_codes_left: int
    def __init__(self, outcome: _Optional[_Union[SignInResponse.Outcome, str]] = ..., user: _Optional[_Union[_registry_service_pb2.User, _Mapping]] = ..., locked_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retry_after_seconds: _Optional[int] = ..., totp_enrolment_required: _Optional[bool] = ..., user_id: _Optional[str] = ..., recovery_code_used: _Optional[bool] = ..., recovery_codes_left: _Optional[int] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("user_id", "has_password", "password_set_at", "totp_enabled", "failed_count", "locked_until", "last_sign_in_at", "recovery_codes_left", "totp_required")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    HAS_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_SET_AT_FIELD_NUMBER: _ClassVar[int]
    TOTP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    FAILED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOCKED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    LAST_SIGN_IN_AT_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_CODES_LEFT_FIELD_NUMBER: _ClassVar[int]
    TOTP_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    has_password: bool
    password_set_at: _timestamp_pb2.Timestamp
    totp_enabled: bool
    failed_count: int
    locked_until: _timestamp_pb2.Timestamp
    last_sign_in_at: _timestamp_pb2.Timestamp
    recovery_codes_left: int
    totp_required: bool
    def __init__(self, user_id: _Optional[str] = ..., has_password: _Optional[bool] = ..., password_set_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., totp_enabled: _Optional[bool] = ..., failed_count: _Optional[int] = ..., locked_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_sign_in_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recovery_codes_left: _Optional[int] = ..., totp_required: _Optional[bool] = ...) -> None: ...

class GetAccountRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class SetPasswordRequest(_message.Message):
    __slots__ = ("user_id", "password", "now")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    password: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., password: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChangePasswordRequest(_message.Message):
    __slots__ = ("user_id", "current_password", "new_password", "now")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NEW_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    current_password: str
    new_password: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., current_password: _Optional[str] = ..., new_password: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueSetupLinkRequest(_message.Message):
    __slots__ = ("request_id", "purpose", "user_id", "login", "actor_id", "now")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LOGIN_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    purpose: str
    user_id: str
    login: str
    actor_id: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., purpose: _Optional[str] = ..., user_id: _Optional[str] = ..., login: _Optional[str] = ..., actor_id: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueSetupLinkResponse(_message.Message):
    __slots__ = ("issued", "token", "expires_at", "user", "reason")
    ISSUED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    issued: bool
    token: str
    expires_at: _timestamp_pb2.Timestamp
    user: _registry_service_pb2.User
    reason: str
    def __init__(self, issued: _Optional[bool] = ..., token: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user: _Optional[_Union[_registry_service_pb2.User, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class CheckSetupLinkRequest(_message.Message):
    __slots__ = ("token", "now")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    token: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CheckSetupLinkResponse(_message.Message):
    __slots__ = ("purpose", "user", "expires_at", "totp_enabled")
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TOTP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    purpose: str
    user: _registry_service_pb2.User
    expires_at: _timestamp_pb2.Timestamp
    totp_enabled: bool
    def __init__(self, purpose: _Optional[str] = ..., user: _Optional[_Union[_registry_service_pb2.User, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., totp_enabled: _Optional[bool] = ...) -> None: ...

class UseSetupLinkRequest(_message.Message):
    __slots__ = ("token", "password", "totp_code", "now")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    TOTP_CODE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    token: str
    password: str
    totp_code: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, token: _Optional[str] = ..., password: _Optional[str] = ..., totp_code: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UnlockRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class StartTotpRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class StartTotpResponse(_message.Message):
    __slots__ = ("secret", "uri")
    SECRET_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    secret: str
    uri: str
    def __init__(self, secret: _Optional[str] = ..., uri: _Optional[str] = ...) -> None: ...

class ConfirmTotpRequest(_message.Message):
    __slots__ = ("user_id", "code", "now")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    code: str
    now: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., code: _Optional[str] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConfirmTotpResponse(_message.Message):
    __slots__ = ("recovery_codes", "account")
    RECOVERY_CODES_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    recovery_codes: _containers.RepeatedScalarFieldContainer[str]
    account: Account
    def __init__(self, recovery_codes: _Optional[_Iterable[str]] = ..., account: _Optional[_Union[Account, _Mapping]] = ...) -> None: ...

class DisableTotpRequest(_message.Message):
    __slots__ = ("user_id", "code", "by_admin", "now")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    BY_ADMIN_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    code: str
    by_admin: bool
    now: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., code: _Optional[str] = ..., by_admin: _Optional[bool] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RetiredToken(_message.Message):
    __slots__ = ("fingerprint", "retired_at", "retired_by")
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    RETIRED_AT_FIELD_NUMBER: _ClassVar[int]
    RETIRED_BY_FIELD_NUMBER: _ClassVar[int]
    fingerprint: str
    retired_at: _timestamp_pb2.Timestamp
    retired_by: str
    def __init__(self, fingerprint: _Optional[str] = ..., retired_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retired_by: _Optional[str] = ...) -> None: ...

class AuthSettings(_message.Message):
    __slots__ = ("totp_required_roles", "retired_bootstrap_tokens", "version", "updated_at", "updated_by", "admins_with_password")
    TOTP_REQUIRED_ROLES_FIELD_NUMBER: _ClassVar[int]
    RETIRED_BOOTSTRAP_TOKENS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    ADMINS_WITH_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    totp_required_roles: _containers.RepeatedScalarFieldContainer[str]
    retired_bootstrap_tokens: _containers.RepeatedCompositeFieldContainer[RetiredToken]
    version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    admins_with_password: int
    def __init__(self, totp_required_roles: _Optional[_Iterable[str]] = ..., retired_bootstrap_tokens: _Optional[_Iterable[_Union[RetiredToken, _Mapping]]] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ..., admins_with_password: _Optional[int] = ...) -> None: ...

class GetAuthSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PutAuthSettingsRequest(_message.Message):
    __slots__ = ("totp_required_roles", "actor_id")
    TOTP_REQUIRED_ROLES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    totp_required_roles: _containers.RepeatedScalarFieldContainer[str]
    actor_id: str
    def __init__(self, totp_required_roles: _Optional[_Iterable[str]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class RetireBootstrapTokenRequest(_message.Message):
    __slots__ = ("actor_id", "fingerprint")
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    actor_id: str
    fingerprint: str
    def __init__(self, actor_id: _Optional[str] = ..., fingerprint: _Optional[str] = ...) -> None: ...
