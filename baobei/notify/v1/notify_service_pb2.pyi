import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ItemError(_message.Message):
    __slots__ = ("code", "reason", "message", "violations")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    code: int
    reason: str
    message: str
    violations: _containers.RepeatedCompositeFieldContainer[ItemFieldViolation]
    def __init__(self, code: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., violations: _Optional[_Iterable[_Union[ItemFieldViolation, _Mapping]]] = ...) -> None: ...

class ItemFieldViolation(_message.Message):
    __slots__ = ("field", "description")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    field: str
    description: str
    def __init__(self, field: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class SendRequest(_message.Message):
    __slots__ = ("request_id", "recipient_ids", "kind", "title", "body", "project_id", "action_urls", "action_tasks", "context", "account_email")
    class ActionUrlsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ActionTasksEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_URLS_FIELD_NUMBER: _ClassVar[int]
    ACTION_TASKS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_EMAIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    recipient_ids: _containers.RepeatedScalarFieldContainer[str]
    kind: str
    title: str
    body: str
    project_id: str
    action_urls: _containers.ScalarMap[str, str]
    action_tasks: _containers.ScalarMap[str, str]
    context: _struct_pb2.Struct
    account_email: bool
    def __init__(self, request_id: _Optional[str] = ..., recipient_ids: _Optional[_Iterable[str]] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., body: _Optional[str] = ..., project_id: _Optional[str] = ..., action_urls: _Optional[_Mapping[str, str]] = ..., action_tasks: _Optional[_Mapping[str, str]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., account_email: _Optional[bool] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("id", "user_id", "kind", "title", "body", "project_id", "action_url", "created_at", "read", "read_at", "task_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    READ_FIELD_NUMBER: _ClassVar[int]
    READ_AT_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    user_id: str
    kind: str
    title: str
    body: str
    project_id: str
    action_url: str
    created_at: _timestamp_pb2.Timestamp
    read: bool
    read_at: _timestamp_pb2.Timestamp
    task_id: str
    def __init__(self, id: _Optional[str] = ..., user_id: _Optional[str] = ..., kind: _Optional[str] = ..., title: _Optional[str] = ..., body: _Optional[str] = ..., project_id: _Optional[str] = ..., action_url: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read: _Optional[bool] = ..., read_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., task_id: _Optional[str] = ...) -> None: ...

class SendResponse(_message.Message):
    __slots__ = ("notifications", "deliveries")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class ListInboxRequest(_message.Message):
    __slots__ = ("user_id", "limit", "cursor", "unread_only")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    UNREAD_ONLY_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    limit: int
    cursor: str
    unread_only: bool
    def __init__(self, user_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., unread_only: _Optional[bool] = ...) -> None: ...

class ListInboxResponse(_message.Message):
    __slots__ = ("items", "next_cursor", "unread_count")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[Notification]
    next_cursor: str
    unread_count: int
    def __init__(self, items: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., unread_count: _Optional[int] = ...) -> None: ...

class MarkReadRequest(_message.Message):
    __slots__ = ("user_id", "notification_id")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    notification_id: str
    def __init__(self, user_id: _Optional[str] = ..., notification_id: _Optional[str] = ...) -> None: ...

class MarkReadResponse(_message.Message):
    __slots__ = ("notification", "unread_count")
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    notification: Notification
    unread_count: int
    def __init__(self, notification: _Optional[_Union[Notification, _Mapping]] = ..., unread_count: _Optional[int] = ...) -> None: ...

class MarkAllReadRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class MarkAllReadResponse(_message.Message):
    __slots__ = ("marked", "unread_count")
    MARKED_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    marked: int
    unread_count: int
    def __init__(self, marked: _Optional[int] = ..., unread_count: _Optional[int] = ...) -> None: ...

class ResolveActionLinkRequest(_message.Message):
    __slots__ = ("token",)
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: str
    def __init__(self, token: _Optional[str] = ...) -> None: ...

class ActionLink(_message.Message):
    __slots__ = ("id", "task_id", "approver_id", "project_id", "notification_id", "expires_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    task_id: str
    approver_id: str
    project_id: str
    notification_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., task_id: _Optional[str] = ..., approver_id: _Optional[str] = ..., project_id: _Optional[str] = ..., notification_id: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ResolveActionLinkResponse(_message.Message):
    __slots__ = ("link",)
    LINK_FIELD_NUMBER: _ClassVar[int]
    link: ActionLink
    def __init__(self, link: _Optional[_Union[ActionLink, _Mapping]] = ...) -> None: ...

class QuietHours(_message.Message):
    __slots__ = ("start", "end", "tz")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TZ_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    tz: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ..., tz: _Optional[str] = ...) -> None: ...

class Preferences(_message.Message):
    __slots__ = ("user_id", "channels", "quiet_hours", "by_kind")
    class ByKindEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: ChannelList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[ChannelList, _Mapping]] = ...) -> None: ...
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    QUIET_HOURS_FIELD_NUMBER: _ClassVar[int]
    BY_KIND_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    channels: _containers.RepeatedScalarFieldContainer[str]
    quiet_hours: QuietHours
    by_kind: _containers.MessageMap[str, ChannelList]
    def __init__(self, user_id: _Optional[str] = ..., channels: _Optional[_Iterable[str]] = ..., quiet_hours: _Optional[_Union[QuietHours, _Mapping]] = ..., by_kind: _Optional[_Mapping[str, ChannelList]] = ...) -> None: ...

class ChannelList(_message.Message):
    __slots__ = ("channels",)
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, channels: _Optional[_Iterable[str]] = ...) -> None: ...

class GetPreferencesRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class SetPreferencesRequest(_message.Message):
    __slots__ = ("request_id", "preferences")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    preferences: Preferences
    def __init__(self, request_id: _Optional[str] = ..., preferences: _Optional[_Union[Preferences, _Mapping]] = ...) -> None: ...

class Template(_message.Message):
    __slots__ = ("kind", "title", "text", "html", "markdown", "version", "updated_at", "updated_by", "builtin")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    HTML_FIELD_NUMBER: _ClassVar[int]
    MARKDOWN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_BY_FIELD_NUMBER: _ClassVar[int]
    BUILTIN_FIELD_NUMBER: _ClassVar[int]
    kind: str
    title: str
    text: str
    html: str
    markdown: str
    version: int
    updated_at: _timestamp_pb2.Timestamp
    updated_by: str
    builtin: bool
    def __init__(self, kind: _Optional[str] = ..., title: _Optional[str] = ..., text: _Optional[str] = ..., html: _Optional[str] = ..., markdown: _Optional[str] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_by: _Optional[str] = ..., builtin: _Optional[bool] = ...) -> None: ...

class PutTemplateRequest(_message.Message):
    __slots__ = ("request_id", "template", "actor_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    template: Template
    actor_id: str
    def __init__(self, request_id: _Optional[str] = ..., template: _Optional[_Union[Template, _Mapping]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[Template]
    def __init__(self, templates: _Optional[_Iterable[_Union[Template, _Mapping]]] = ...) -> None: ...

class Channel(_message.Message):
    __slots__ = ("key", "type", "url", "secret", "enabled", "has_secret", "show_amount", "app_key", "agent_id", "api_base", "options")
    class OptionsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KEY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    HAS_SECRET_FIELD_NUMBER: _ClassVar[int]
    SHOW_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    APP_KEY_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    API_BASE_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    key: str
    type: str
    url: str
    secret: str
    enabled: bool
    has_secret: bool
    show_amount: bool
    app_key: str
    agent_id: str
    api_base: str
    options: _containers.ScalarMap[str, str]
    def __init__(self, key: _Optional[str] = ..., type: _Optional[str] = ..., url: _Optional[str] = ..., secret: _Optional[str] = ..., enabled: _Optional[bool] = ..., has_secret: _Optional[bool] = ..., show_amount: _Optional[bool] = ..., app_key: _Optional[str] = ..., agent_id: _Optional[str] = ..., api_base: _Optional[str] = ..., options: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PutChannelRequest(_message.Message):
    __slots__ = ("request_id", "channel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    channel: Channel
    def __init__(self, request_id: _Optional[str] = ..., channel: _Optional[_Union[Channel, _Mapping]] = ...) -> None: ...

class ListChannelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListChannelsResponse(_message.Message):
    __slots__ = ("channels",)
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedCompositeFieldContainer[Channel]
    def __init__(self, channels: _Optional[_Iterable[_Union[Channel, _Mapping]]] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("id", "url", "events", "secrets", "enabled", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    url: str
    events: _containers.RepeatedScalarFieldContainer[str]
    secrets: _containers.RepeatedScalarFieldContainer[str]
    enabled: bool
    description: str
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., events: _Optional[_Iterable[str]] = ..., secrets: _Optional[_Iterable[str]] = ..., enabled: _Optional[bool] = ..., description: _Optional[str] = ...) -> None: ...

class PutSubscriptionRequest(_message.Message):
    __slots__ = ("request_id", "subscription")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    subscription: Subscription
    def __init__(self, request_id: _Optional[str] = ..., subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ("subscriptions",)
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ...) -> None: ...

class DeleteSubscriptionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteSubscriptionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PublishEventRequest(_message.Message):
    __slots__ = ("event_id", "type", "project_id", "at", "data")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    project_id: str
    at: _timestamp_pb2.Timestamp
    data: _struct_pb2.Struct
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., project_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PublishEventResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class PublishEventsRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[PublishEventRequest]
    def __init__(self, items: _Optional[_Iterable[_Union[PublishEventRequest, _Mapping]]] = ...) -> None: ...

class PublishEventResult(_message.Message):
    __slots__ = ("event_id", "response", "error")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    response: PublishEventResponse
    error: ItemError
    def __init__(self, event_id: _Optional[str] = ..., response: _Optional[_Union[PublishEventResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class PublishEventsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[PublishEventResult]
    def __init__(self, results: _Optional[_Iterable[_Union[PublishEventResult, _Mapping]]] = ...) -> None: ...

class SendWebhookRequest(_message.Message):
    __slots__ = ("event_id", "type", "project_id", "at", "data", "url", "secrets", "owner", "description")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    type: str
    project_id: str
    at: _timestamp_pb2.Timestamp
    data: _struct_pb2.Struct
    url: str
    secrets: _containers.RepeatedScalarFieldContainer[str]
    owner: str
    description: str
    def __init__(self, event_id: _Optional[str] = ..., type: _Optional[str] = ..., project_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., url: _Optional[str] = ..., secrets: _Optional[_Iterable[str]] = ..., owner: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class SendWebhookResponse(_message.Message):
    __slots__ = ("delivery", "subscription_id")
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    delivery: Delivery
    subscription_id: str
    def __init__(self, delivery: _Optional[_Union[Delivery, _Mapping]] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class Delivery(_message.Message):
    __slots__ = ("id", "notification_id", "channel", "status", "attempts", "error", "recipient_id", "target", "not_before", "updated_at", "project_id", "kind", "digest_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DIGEST_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    notification_id: str
    channel: str
    status: str
    attempts: int
    error: str
    recipient_id: str
    target: str
    not_before: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    project_id: str
    kind: str
    digest_id: str
    def __init__(self, id: _Optional[str] = ..., notification_id: _Optional[str] = ..., channel: _Optional[str] = ..., status: _Optional[str] = ..., attempts: _Optional[int] = ..., error: _Optional[str] = ..., recipient_id: _Optional[str] = ..., target: _Optional[str] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., project_id: _Optional[str] = ..., kind: _Optional[str] = ..., digest_id: _Optional[str] = ...) -> None: ...

class DeliverRequest(_message.Message):
    __slots__ = ("delivery_id", "attempt", "error")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    attempt: int
    error: str
    def __init__(self, delivery_id: _Optional[str] = ..., attempt: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class DeliverResponse(_message.Message):
    __slots__ = ("delivery", "outcome", "retry_after_seconds")
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_SECONDS_FIELD_NUMBER: _ClassVar[int]
    delivery: Delivery
    outcome: str
    retry_after_seconds: float
    def __init__(self, delivery: _Optional[_Union[Delivery, _Mapping]] = ..., outcome: _Optional[str] = ..., retry_after_seconds: _Optional[float] = ...) -> None: ...

class DeadLetterRequest(_message.Message):
    __slots__ = ("delivery_id", "error")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    error: str
    def __init__(self, delivery_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class RedriveRequest(_message.Message):
    __slots__ = ("request_id", "delivery_ids")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_IDS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    delivery_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., delivery_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class RedriveResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class ListDeliveriesRequest(_message.Message):
    __slots__ = ("notification_id", "status", "project_id", "channel", "limit")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    status: str
    project_id: str
    channel: str
    limit: int
    def __init__(self, notification_id: _Optional[str] = ..., status: _Optional[str] = ..., project_id: _Optional[str] = ..., channel: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries",)
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ...) -> None: ...

class ClaimDeliveryBatchesRequest(_message.Message):
    __slots__ = ("batch_size", "max_batches")
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCHES_FIELD_NUMBER: _ClassVar[int]
    batch_size: int
    max_batches: int
    def __init__(self, batch_size: _Optional[int] = ..., max_batches: _Optional[int] = ...) -> None: ...

class DeliveryBatch(_message.Message):
    __slots__ = ("batch_id", "deliveries")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    deliveries: _containers.RepeatedCompositeFieldContainer[BatchDelivery]
    def __init__(self, batch_id: _Optional[str] = ..., deliveries: _Optional[_Iterable[_Union[BatchDelivery, _Mapping]]] = ...) -> None: ...

class BatchDelivery(_message.Message):
    __slots__ = ("delivery_id", "not_before")
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    NOT_BEFORE_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    not_before: _timestamp_pb2.Timestamp
    def __init__(self, delivery_id: _Optional[str] = ..., not_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClaimDeliveryBatchesResponse(_message.Message):
    __slots__ = ("batches",)
    BATCHES_FIELD_NUMBER: _ClassVar[int]
    batches: _containers.RepeatedCompositeFieldContainer[DeliveryBatch]
    def __init__(self, batches: _Optional[_Iterable[_Union[DeliveryBatch, _Mapping]]] = ...) -> None: ...

class MarkBatchDispatchedRequest(_message.Message):
    __slots__ = ("batch_id",)
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    def __init__(self, batch_id: _Optional[str] = ...) -> None: ...

class MarkBatchDispatchedResponse(_message.Message):
    __slots__ = ("marked",)
    MARKED_FIELD_NUMBER: _ClassVar[int]
    marked: int
    def __init__(self, marked: _Optional[int] = ...) -> None: ...

class WaitForDeliveriesRequest(_message.Message):
    __slots__ = ("wait_seconds",)
    WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    wait_seconds: float
    def __init__(self, wait_seconds: _Optional[float] = ...) -> None: ...

class WaitForDeliveriesResponse(_message.Message):
    __slots__ = ("pending",)
    PENDING_FIELD_NUMBER: _ClassVar[int]
    pending: bool
    def __init__(self, pending: _Optional[bool] = ...) -> None: ...

class CloseTaskRequest(_message.Message):
    __slots__ = ("request_id", "task_id", "project_id", "outcome", "actor_id", "actor_name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_id: str
    project_id: str
    outcome: str
    actor_id: str
    actor_name: str
    def __init__(self, request_id: _Optional[str] = ..., task_id: _Optional[str] = ..., project_id: _Optional[str] = ..., outcome: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_name: _Optional[str] = ...) -> None: ...

class CloseTaskResponse(_message.Message):
    __slots__ = ("deliveries", "status")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[Delivery]
    status: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[Delivery, _Mapping]]] = ..., status: _Optional[str] = ...) -> None: ...

class CloseTasksRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CloseTaskRequest]
    def __init__(self, items: _Optional[_Iterable[_Union[CloseTaskRequest, _Mapping]]] = ...) -> None: ...

class CloseTaskResult(_message.Message):
    __slots__ = ("request_id", "response", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    response: CloseTaskResponse
    error: ItemError
    def __init__(self, request_id: _Optional[str] = ..., response: _Optional[_Union[CloseTaskResponse, _Mapping]] = ..., error: _Optional[_Union[ItemError, _Mapping]] = ...) -> None: ...

class CloseTasksResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[CloseTaskResult]
    def __init__(self, results: _Optional[_Iterable[_Union[CloseTaskResult, _Mapping]]] = ...) -> None: ...
