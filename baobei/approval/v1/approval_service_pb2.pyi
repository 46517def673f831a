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

class TaskStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_STATUS_UNSPECIFIED: _ClassVar[TaskStatus]
    TASK_STATUS_PENDING: _ClassVar[TaskStatus]
    TASK_STATUS_APPROVED: _ClassVar[TaskStatus]
    TASK_STATUS_REJECTED: _ClassVar[TaskStatus]
    TASK_STATUS_CLOSED: _ClassVar[TaskStatus]
    TASK_STATUS_WAITING: _ClassVar[TaskStatus]
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_PENDING: TaskStatus
TASK_STATUS_APPROVED: TaskStatus
TASK_STATUS_REJECTED: TaskStatus
TASK_STATUS_CLOSED: TaskStatus
TASK_STATUS_WAITING: TaskStatus

class ForecastInstanceRequest(_message.Message):
    __slots__ = ("project_id", "at")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, project_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ForecastBasis(_message.Message):
    __slots__ = ("step", "level", "samples")
    STEP_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    step: str
    level: str
    samples: int
    def __init__(self, step: _Optional[str] = ..., level: _Optional[str] = ..., samples: _Optional[int] = ...) -> None: ...

class ForecastInstanceResponse(_message.Message):
    __slots__ = ("available", "expected_at", "low_at", "high_at", "remaining_hours", "basis")
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_AT_FIELD_NUMBER: _ClassVar[int]
    LOW_AT_FIELD_NUMBER: _ClassVar[int]
    HIGH_AT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_HOURS_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    available: bool
    expected_at: _timestamp_pb2.Timestamp
    low_at: _timestamp_pb2.Timestamp
    high_at: _timestamp_pb2.Timestamp
    remaining_hours: float
    basis: _containers.RepeatedCompositeFieldContainer[ForecastBasis]
    def __init__(self, available: _Optional[bool] = ..., expected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., low_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., high_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., remaining_hours: _Optional[float] = ..., basis: _Optional[_Iterable[_Union[ForecastBasis, _Mapping]]] = ...) -> None: ...

class ClaimTaskClosingsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class TaskClosing(_message.Message):
    __slots__ = ("seq", "task_id", "instance_id", "project_id", "approver_id", "outcome", "actor_id", "at")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    task_id: str
    instance_id: str
    project_id: str
    approver_id: str
    outcome: str
    actor_id: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, seq: _Optional[int] = ..., task_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., project_id: _Optional[str] = ..., approver_id: _Optional[str] = ..., outcome: _Optional[str] = ..., actor_id: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClaimTaskClosingsResponse(_message.Message):
    __slots__ = ("closings",)
    CLOSINGS_FIELD_NUMBER: _ClassVar[int]
    closings: _containers.RepeatedCompositeFieldContainer[TaskClosing]
    def __init__(self, closings: _Optional[_Iterable[_Union[TaskClosing, _Mapping]]] = ...) -> None: ...

class AckTaskClosingsRequest(_message.Message):
    __slots__ = ("seqs",)
    SEQS_FIELD_NUMBER: _ClassVar[int]
    seqs: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seqs: _Optional[_Iterable[int]] = ...) -> None: ...

class AckTaskClosingsResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: int
    def __init__(self, acknowledged: _Optional[int] = ...) -> None: ...

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

class NoticeSpec(_message.Message):
    __slots__ = ("kind", "project_id", "context", "request_id_prefix")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    kind: str
    project_id: str
    context: _struct_pb2.Struct
    request_id_prefix: str
    def __init__(self, kind: _Optional[str] = ..., project_id: _Optional[str] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., request_id_prefix: _Optional[str] = ...) -> None: ...

class Notice(_message.Message):
    __slots__ = ("request_id", "recipient_id", "kind", "project_id", "action_tasks", "context")
    class ActionTasksEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_TASKS_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    recipient_id: str
    kind: str
    project_id: str
    action_tasks: _containers.ScalarMap[str, str]
    context: _struct_pb2.Struct
    def __init__(self, request_id: _Optional[str] = ..., recipient_id: _Optional[str] = ..., kind: _Optional[str] = ..., project_id: _Optional[str] = ..., action_tasks: _Optional[_Mapping[str, str]] = ..., context: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class OutboxNotice(_message.Message):
    __slots__ = ("seq", "notice")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    seq: int
    notice: Notice
    def __init__(self, seq: _Optional[int] = ..., notice: _Optional[_Union[Notice, _Mapping]] = ...) -> None: ...

class ClaimNoticesRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ClaimNoticesResponse(_message.Message):
    __slots__ = ("notices",)
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    notices: _containers.RepeatedCompositeFieldContainer[OutboxNotice]
    def __init__(self, notices: _Optional[_Iterable[_Union[OutboxNotice, _Mapping]]] = ...) -> None: ...

class AckNoticesRequest(_message.Message):
    __slots__ = ("seqs",)
    SEQS_FIELD_NUMBER: _ClassVar[int]
    seqs: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, seqs: _Optional[_Iterable[int]] = ...) -> None: ...

class AckNoticesResponse(_message.Message):
    __slots__ = ("acknowledged",)
    ACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    acknowledged: int
    def __init__(self, acknowledged: _Optional[int] = ...) -> None: ...

class RequirePolicyRequest(_message.Message):
    __slots__ = ("form_key",)
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    form_key: str
    def __init__(self, form_key: _Optional[str] = ...) -> None: ...

class RequirePolicyResponse(_message.Message):
    __slots__ = ("policy_key", "policy_version", "no_approval")
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    NO_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    policy_key: str
    policy_version: int
    no_approval: bool
    def __init__(self, policy_key: _Optional[str] = ..., policy_version: _Optional[int] = ..., no_approval: _Optional[bool] = ...) -> None: ...

class Approvers(_message.Message):
    __slots__ = ("type", "user_id", "role", "scope", "level", "until_role", "department_id")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    UNTIL_ROLE_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_ID_FIELD_NUMBER: _ClassVar[int]
    type: str
    user_id: str
    role: str
    scope: str
    level: int
    until_role: str
    department_id: str
    def __init__(self, type: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[str] = ..., scope: _Optional[str] = ..., level: _Optional[int] = ..., until_role: _Optional[str] = ..., department_id: _Optional[str] = ...) -> None: ...

class LadderLevel(_message.Message):
    __slots__ = ("after", "action", "to")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    after: str
    action: str
    to: Approvers
    def __init__(self, after: _Optional[str] = ..., action: _Optional[str] = ..., to: _Optional[_Union[Approvers, _Mapping]] = ...) -> None: ...

class PolicyOptions(_message.Message):
    __slots__ = ("default_steps", "on_no_approver", "approval_admin", "on_submitter_is_approver", "auto_approve_consecutive", "no_approval")
    DEFAULT_STEPS_FIELD_NUMBER: _ClassVar[int]
    ON_NO_APPROVER_FIELD_NUMBER: _ClassVar[int]
    APPROVAL_ADMIN_FIELD_NUMBER: _ClassVar[int]
    ON_SUBMITTER_IS_APPROVER_FIELD_NUMBER: _ClassVar[int]
    AUTO_APPROVE_CONSECUTIVE_FIELD_NUMBER: _ClassVar[int]
    NO_APPROVAL_FIELD_NUMBER: _ClassVar[int]
    default_steps: _containers.RepeatedCompositeFieldContainer[PolicyStep]
    on_no_approver: str
    approval_admin: str
    on_submitter_is_approver: str
    auto_approve_consecutive: bool
    no_approval: bool
    def __init__(self, default_steps: _Optional[_Iterable[_Union[PolicyStep, _Mapping]]] = ..., on_no_approver: _Optional[str] = ..., approval_admin: _Optional[str] = ..., on_submitter_is_approver: _Optional[str] = ..., auto_approve_consecutive: _Optional[bool] = ..., no_approval: _Optional[bool] = ...) -> None: ...

class PolicyStep(_message.Message):
    __slots__ = ("name", "when", "approvers", "mode", "sla", "escalate_to", "on_timeout", "min_approvals", "ratio", "remind_at", "escalation", "cc")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_TO_FIELD_NUMBER: _ClassVar[int]
    ON_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    MIN_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    REMIND_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    name: str
    when: str
    approvers: Approvers
    mode: str
    sla: str
    escalate_to: Approvers
    on_timeout: str
    min_approvals: int
    ratio: float
    remind_at: float
    escalation: _containers.RepeatedCompositeFieldContainer[LadderLevel]
    cc: _containers.RepeatedCompositeFieldContainer[Approvers]
    def __init__(self, name: _Optional[str] = ..., when: _Optional[str] = ..., approvers: _Optional[_Union[Approvers, _Mapping]] = ..., mode: _Optional[str] = ..., sla: _Optional[str] = ..., escalate_to: _Optional[_Union[Approvers, _Mapping]] = ..., on_timeout: _Optional[str] = ..., min_approvals: _Optional[int] = ..., ratio: _Optional[float] = ..., remind_at: _Optional[float] = ..., escalation: _Optional[_Iterable[_Union[LadderLevel, _Mapping]]] = ..., cc: _Optional[_Iterable[_Union[Approvers, _Mapping]]] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("key", "form_key", "version", "steps", "created_at", "options")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    key: str
    form_key: str
    version: int
    steps: _containers.RepeatedCompositeFieldContainer[PolicyStep]
    created_at: _timestamp_pb2.Timestamp
    options: PolicyOptions
    def __init__(self, key: _Optional[str] = ..., form_key: _Optional[str] = ..., version: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[PolicyStep, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., options: _Optional[_Union[PolicyOptions, _Mapping]] = ...) -> None: ...

class PutPolicyRequest(_message.Message):
    __slots__ = ("request_id", "key", "form_key", "steps", "options")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    key: str
    form_key: str
    steps: _containers.RepeatedCompositeFieldContainer[PolicyStep]
    options: PolicyOptions
    def __init__(self, request_id: _Optional[str] = ..., key: _Optional[str] = ..., form_key: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[PolicyStep, _Mapping]]] = ..., options: _Optional[_Union[PolicyOptions, _Mapping]] = ...) -> None: ...

class PutPolicyResponse(_message.Message):
    __slots__ = ("key", "version", "created")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    key: str
    version: int
    created: bool
    def __init__(self, key: _Optional[str] = ..., version: _Optional[int] = ..., created: _Optional[bool] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("key", "version")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    key: str
    version: int
    def __init__(self, key: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("policy",)
    POLICY_FIELD_NUMBER: _ClassVar[int]
    policy: Policy
    def __init__(self, policy: _Optional[_Union[Policy, _Mapping]] = ...) -> None: ...

class ProjectFacts(_message.Message):
    __slots__ = ("project_id", "form_key", "name", "amount", "region", "business_line", "fields", "conflict_count", "conflicts")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    form_key: str
    name: str
    amount: str
    region: str
    business_line: str
    fields: _struct_pb2.Struct
    conflict_count: int
    conflicts: _containers.RepeatedCompositeFieldContainer[ProjectConflict]
    def __init__(self, project_id: _Optional[str] = ..., form_key: _Optional[str] = ..., name: _Optional[str] = ..., amount: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., conflict_count: _Optional[int] = ..., conflicts: _Optional[_Iterable[_Union[ProjectConflict, _Mapping]]] = ...) -> None: ...

class ProjectConflict(_message.Message):
    __slots__ = ("project_id", "reason")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    reason: str
    def __init__(self, project_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PlannedLevel(_message.Message):
    __slots__ = ("after", "action", "to")
    AFTER_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    after: str
    action: str
    to: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, after: _Optional[str] = ..., action: _Optional[str] = ..., to: _Optional[_Iterable[str]] = ...) -> None: ...

class PlannedStep(_message.Message):
    __slots__ = ("index", "name", "mode", "approvers", "sla_seconds", "sla", "on_timeout", "escalate_to", "min_approvals", "ratio", "remind_at", "escalation", "cc", "blocked", "self_approved", "provenance")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    SLA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    ON_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_TO_FIELD_NUMBER: _ClassVar[int]
    MIN_APPROVALS_FIELD_NUMBER: _ClassVar[int]
    RATIO_FIELD_NUMBER: _ClassVar[int]
    REMIND_AT_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    SELF_APPROVED_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    index: int
    name: str
    mode: str
    approvers: _containers.RepeatedScalarFieldContainer[str]
    sla_seconds: int
    sla: str
    on_timeout: str
    escalate_to: _containers.RepeatedScalarFieldContainer[str]
    min_approvals: int
    ratio: float
    remind_at: float
    escalation: _containers.RepeatedCompositeFieldContainer[PlannedLevel]
    cc: _containers.RepeatedScalarFieldContainer[str]
    blocked: bool
    self_approved: bool
    provenance: _struct_pb2.Struct
    def __init__(self, index: _Optional[int] = ..., name: _Optional[str] = ..., mode: _Optional[str] = ..., approvers: _Optional[_Iterable[str]] = ..., sla_seconds: _Optional[int] = ..., sla: _Optional[str] = ..., on_timeout: _Optional[str] = ..., escalate_to: _Optional[_Iterable[str]] = ..., min_approvals: _Optional[int] = ..., ratio: _Optional[float] = ..., remind_at: _Optional[float] = ..., escalation: _Optional[_Iterable[_Union[PlannedLevel, _Mapping]]] = ..., cc: _Optional[_Iterable[str]] = ..., blocked: _Optional[bool] = ..., self_approved: _Optional[bool] = ..., provenance: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class SimulateRequest(_message.Message):
    __slots__ = ("policy_key", "project", "submitter_id")
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_ID_FIELD_NUMBER: _ClassVar[int]
    policy_key: str
    project: ProjectFacts
    submitter_id: str
    def __init__(self, policy_key: _Optional[str] = ..., project: _Optional[_Union[ProjectFacts, _Mapping]] = ..., submitter_id: _Optional[str] = ...) -> None: ...

class SimulateResponse(_message.Message):
    __slots__ = ("steps",)
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedCompositeFieldContainer[PlannedStep]
    def __init__(self, steps: _Optional[_Iterable[_Union[PlannedStep, _Mapping]]] = ...) -> None: ...

class PlanChainRequest(_message.Message):
    __slots__ = ("request_id", "project", "submitter_id", "purpose", "subject_id", "policy_key", "open_first")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIRST_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project: ProjectFacts
    submitter_id: str
    purpose: str
    subject_id: str
    policy_key: str
    open_first: OpenStepRequest
    def __init__(self, request_id: _Optional[str] = ..., project: _Optional[_Union[ProjectFacts, _Mapping]] = ..., submitter_id: _Optional[str] = ..., purpose: _Optional[str] = ..., subject_id: _Optional[str] = ..., policy_key: _Optional[str] = ..., open_first: _Optional[_Union[OpenStepRequest, _Mapping]] = ...) -> None: ...

class PlanChainResponse(_message.Message):
    __slots__ = ("instance_id", "policy_key", "policy_version", "steps", "first_opened")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    FIRST_OPENED_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    policy_key: str
    policy_version: int
    steps: _containers.RepeatedCompositeFieldContainer[PlannedStep]
    first_opened: OpenStepResponse
    def __init__(self, instance_id: _Optional[str] = ..., policy_key: _Optional[str] = ..., policy_version: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[PlannedStep, _Mapping]]] = ..., first_opened: _Optional[_Union[OpenStepResponse, _Mapping]] = ...) -> None: ...

class ApprovalTask(_message.Message):
    __slots__ = ("id", "instance_id", "project_id", "step_index", "step_name", "approver_id", "status", "due_at", "created_at", "kind", "on_behalf_of", "opened_at", "purpose", "subject_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_NAME_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    instance_id: str
    project_id: str
    step_index: int
    step_name: str
    approver_id: str
    status: TaskStatus
    due_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    kind: str
    on_behalf_of: str
    opened_at: _timestamp_pb2.Timestamp
    purpose: str
    subject_id: str
    def __init__(self, id: _Optional[str] = ..., instance_id: _Optional[str] = ..., project_id: _Optional[str] = ..., step_index: _Optional[int] = ..., step_name: _Optional[str] = ..., approver_id: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., on_behalf_of: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., purpose: _Optional[str] = ..., subject_id: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("user_id", "action", "comment", "at", "channel", "auto", "on_behalf_of", "target_user_id", "data")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AUTO_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    TARGET_USER_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    action: str
    comment: str
    at: _timestamp_pb2.Timestamp
    channel: str
    auto: bool
    on_behalf_of: str
    target_user_id: str
    data: _struct_pb2.Struct
    def __init__(self, user_id: _Optional[str] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[str] = ..., auto: _Optional[bool] = ..., on_behalf_of: _Optional[str] = ..., target_user_id: _Optional[str] = ..., data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StepState(_message.Message):
    __slots__ = ("index", "name", "mode", "status", "approvers", "decisions", "due_at", "provenance", "sla", "blocked", "opened_at", "cc")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    index: int
    name: str
    mode: str
    status: str
    approvers: _containers.RepeatedScalarFieldContainer[str]
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    due_at: _timestamp_pb2.Timestamp
    provenance: _struct_pb2.Struct
    sla: str
    blocked: bool
    opened_at: _timestamp_pb2.Timestamp
    cc: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., name: _Optional[str] = ..., mode: _Optional[str] = ..., status: _Optional[str] = ..., approvers: _Optional[_Iterable[str]] = ..., decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provenance: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., sla: _Optional[str] = ..., blocked: _Optional[bool] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cc: _Optional[_Iterable[str]] = ...) -> None: ...

class Timer(_message.Message):
    __slots__ = ("index", "action", "at", "level", "to")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    index: int
    action: str
    at: _timestamp_pb2.Timestamp
    level: int
    to: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., action: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., level: _Optional[int] = ..., to: _Optional[_Iterable[str]] = ...) -> None: ...

class OpenStepRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "step_index", "report_scope", "report_key", "notice")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    REPORT_SCOPE_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTICE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    step_index: int
    report_scope: str
    report_key: str
    notice: NoticeSpec
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., step_index: _Optional[int] = ..., report_scope: _Optional[str] = ..., report_key: _Optional[str] = ..., notice: _Optional[_Union[NoticeSpec, _Mapping]] = ...) -> None: ...

class OpenStepResponse(_message.Message):
    __slots__ = ("step", "tasks", "auto_approved", "timers", "due_at", "cc", "notices_published")
    STEP_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    AUTO_APPROVED_FIELD_NUMBER: _ClassVar[int]
    TIMERS_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    NOTICES_PUBLISHED_FIELD_NUMBER: _ClassVar[int]
    step: StepState
    tasks: _containers.RepeatedCompositeFieldContainer[ApprovalTask]
    auto_approved: bool
    timers: _containers.RepeatedCompositeFieldContainer[Timer]
    due_at: _timestamp_pb2.Timestamp
    cc: _containers.RepeatedScalarFieldContainer[str]
    notices_published: bool
    def __init__(self, step: _Optional[_Union[StepState, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[ApprovalTask, _Mapping]]] = ..., auto_approved: _Optional[bool] = ..., timers: _Optional[_Iterable[_Union[Timer, _Mapping]]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cc: _Optional[_Iterable[str]] = ..., notices_published: _Optional[bool] = ...) -> None: ...

class RecordDecisionRequest(_message.Message):
    __slots__ = ("request_id", "task_id", "actor_id", "action", "comment", "channel", "to_user_id", "position", "to_step", "attachments", "link_id", "report_scope", "report_key", "open_next")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    TO_STEP_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_SCOPE_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    OPEN_NEXT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_id: str
    actor_id: str
    action: str
    comment: str
    channel: str
    to_user_id: str
    position: str
    to_step: int
    attachments: _struct_pb2.ListValue
    link_id: str
    report_scope: str
    report_key: str
    open_next: OpenStepRequest
    def __init__(self, request_id: _Optional[str] = ..., task_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., channel: _Optional[str] = ..., to_user_id: _Optional[str] = ..., position: _Optional[str] = ..., to_step: _Optional[int] = ..., attachments: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., link_id: _Optional[str] = ..., report_scope: _Optional[str] = ..., report_key: _Optional[str] = ..., open_next: _Optional[_Union[OpenStepRequest, _Mapping]] = ...) -> None: ...

class RecordDecisionResponse(_message.Message):
    __slots__ = ("task", "step", "step_outcome", "new_tasks", "return_to", "on_behalf_of", "pending_approvers", "next_opened")
    TASK_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NEW_TASKS_FIELD_NUMBER: _ClassVar[int]
    RETURN_TO_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    PENDING_APPROVERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_OPENED_FIELD_NUMBER: _ClassVar[int]
    task: ApprovalTask
    step: StepState
    step_outcome: str
    new_tasks: _containers.RepeatedCompositeFieldContainer[ApprovalTask]
    return_to: int
    on_behalf_of: str
    pending_approvers: _containers.RepeatedScalarFieldContainer[str]
    next_opened: OpenStepResponse
    def __init__(self, task: _Optional[_Union[ApprovalTask, _Mapping]] = ..., step: _Optional[_Union[StepState, _Mapping]] = ..., step_outcome: _Optional[str] = ..., new_tasks: _Optional[_Iterable[_Union[ApprovalTask, _Mapping]]] = ..., return_to: _Optional[int] = ..., on_behalf_of: _Optional[str] = ..., pending_approvers: _Optional[_Iterable[str]] = ..., next_opened: _Optional[_Union[OpenStepResponse, _Mapping]] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("task_id", "actor_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    actor_id: str
    def __init__(self, task_id: _Optional[str] = ..., actor_id: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ("task", "may_act", "on_behalf_of")
    TASK_FIELD_NUMBER: _ClassVar[int]
    MAY_ACT_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    task: ApprovalTask
    may_act: bool
    on_behalf_of: str
    def __init__(self, task: _Optional[_Union[ApprovalTask, _Mapping]] = ..., may_act: _Optional[bool] = ..., on_behalf_of: _Optional[str] = ...) -> None: ...

class ListTodosRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListTodosResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[ApprovalTask]
    def __init__(self, tasks: _Optional[_Iterable[_Union[ApprovalTask, _Mapping]]] = ...) -> None: ...

class GetInstanceRequest(_message.Message):
    __slots__ = ("project_id", "purpose", "subject_id")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    purpose: str
    subject_id: str
    def __init__(self, project_id: _Optional[str] = ..., purpose: _Optional[str] = ..., subject_id: _Optional[str] = ...) -> None: ...

class Instance(_message.Message):
    __slots__ = ("id", "project_id", "policy_key", "policy_version", "status", "steps", "returned_step", "inputs", "created_at", "cc", "actions", "purpose", "subject_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    RETURNED_STEP_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    policy_key: str
    policy_version: int
    status: str
    steps: _containers.RepeatedCompositeFieldContainer[StepState]
    returned_step: int
    inputs: _struct_pb2.Struct
    created_at: _timestamp_pb2.Timestamp
    cc: _containers.RepeatedCompositeFieldContainer[CcRecord]
    actions: _containers.RepeatedCompositeFieldContainer[Decision]
    purpose: str
    subject_id: str
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., policy_key: _Optional[str] = ..., policy_version: _Optional[int] = ..., status: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[StepState, _Mapping]]] = ..., returned_step: _Optional[int] = ..., inputs: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cc: _Optional[_Iterable[_Union[CcRecord, _Mapping]]] = ..., actions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ..., purpose: _Optional[str] = ..., subject_id: _Optional[str] = ...) -> None: ...

class CcRecord(_message.Message):
    __slots__ = ("id", "instance_id", "project_id", "step_index", "user_id", "by_user_id", "created_at", "read_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    BY_USER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    READ_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    instance_id: str
    project_id: str
    step_index: int
    user_id: str
    by_user_id: str
    created_at: _timestamp_pb2.Timestamp
    read_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., instance_id: _Optional[str] = ..., project_id: _Optional[str] = ..., step_index: _Optional[int] = ..., user_id: _Optional[str] = ..., by_user_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., read_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetInstanceResponse(_message.Message):
    __slots__ = ("instance",)
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class ListApproverProjectsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListApproverProjectsResponse(_message.Message):
    __slots__ = ("project_ids",)
    PROJECT_IDS_FIELD_NUMBER: _ClassVar[int]
    project_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListDecidedRequest(_message.Message):
    __slots__ = ("user_id", "limit", "cursor")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    limit: int
    cursor: str
    def __init__(self, user_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class DecidedItem(_message.Message):
    __slots__ = ("task_id", "project_id", "step", "step_index", "action", "comment", "at", "on_behalf_of", "target_user_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ON_BEHALF_OF_FIELD_NUMBER: _ClassVar[int]
    TARGET_USER_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    project_id: str
    step: str
    step_index: int
    action: str
    comment: str
    at: _timestamp_pb2.Timestamp
    on_behalf_of: str
    target_user_id: str
    def __init__(self, task_id: _Optional[str] = ..., project_id: _Optional[str] = ..., step: _Optional[str] = ..., step_index: _Optional[int] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., on_behalf_of: _Optional[str] = ..., target_user_id: _Optional[str] = ...) -> None: ...

class ListDecidedResponse(_message.Message):
    __slots__ = ("items", "next_cursor")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[DecidedItem]
    next_cursor: str
    def __init__(self, items: _Optional[_Iterable[_Union[DecidedItem, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class FireTimerRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "step_index", "timer_index", "report_scope", "report_key")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    TIMER_INDEX_FIELD_NUMBER: _ClassVar[int]
    REPORT_SCOPE_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    step_index: int
    timer_index: int
    report_scope: str
    report_key: str
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., step_index: _Optional[int] = ..., timer_index: _Optional[int] = ..., report_scope: _Optional[str] = ..., report_key: _Optional[str] = ...) -> None: ...

class FireTimerResponse(_message.Message):
    __slots__ = ("fired", "action", "step_outcome", "new_tasks", "remind_user_ids", "step", "pending_approvers")
    FIRED_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    STEP_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    NEW_TASKS_FIELD_NUMBER: _ClassVar[int]
    REMIND_USER_IDS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    PENDING_APPROVERS_FIELD_NUMBER: _ClassVar[int]
    fired: bool
    action: str
    step_outcome: str
    new_tasks: _containers.RepeatedCompositeFieldContainer[ApprovalTask]
    remind_user_ids: _containers.RepeatedScalarFieldContainer[str]
    step: StepState
    pending_approvers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, fired: _Optional[bool] = ..., action: _Optional[str] = ..., step_outcome: _Optional[str] = ..., new_tasks: _Optional[_Iterable[_Union[ApprovalTask, _Mapping]]] = ..., remind_user_ids: _Optional[_Iterable[str]] = ..., step: _Optional[_Union[StepState, _Mapping]] = ..., pending_approvers: _Optional[_Iterable[str]] = ...) -> None: ...

class ResumeInstanceRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "project", "actor_id", "open_first")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIRST_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    project: ProjectFacts
    actor_id: str
    open_first: OpenStepRequest
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., project: _Optional[_Union[ProjectFacts, _Mapping]] = ..., actor_id: _Optional[str] = ..., open_first: _Optional[_Union[OpenStepRequest, _Mapping]] = ...) -> None: ...

class ResumeInstanceResponse(_message.Message):
    __slots__ = ("instance_id", "resume_from", "steps", "replanned", "first_opened")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_FROM_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    REPLANNED_FIELD_NUMBER: _ClassVar[int]
    FIRST_OPENED_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    resume_from: int
    steps: _containers.RepeatedCompositeFieldContainer[PlannedStep]
    replanned: str
    first_opened: OpenStepResponse
    def __init__(self, instance_id: _Optional[str] = ..., resume_from: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[PlannedStep, _Mapping]]] = ..., replanned: _Optional[str] = ..., first_opened: _Optional[_Union[OpenStepResponse, _Mapping]] = ...) -> None: ...

class CancelInstanceRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "actor_id", "action", "comment", "channel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    actor_id: str
    action: str
    comment: str
    channel: str
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class CancelInstanceResponse(_message.Message):
    __slots__ = ("instance",)
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    instance: Instance
    def __init__(self, instance: _Optional[_Union[Instance, _Mapping]] = ...) -> None: ...

class ReassignStepRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "step_index", "from_user_id", "to_user_id", "actor_id", "comment", "report_scope", "report_key")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    FROM_USER_ID_FIELD_NUMBER: _ClassVar[int]
    TO_USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    REPORT_SCOPE_FIELD_NUMBER: _ClassVar[int]
    REPORT_KEY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    step_index: int
    from_user_id: str
    to_user_id: str
    actor_id: str
    comment: str
    report_scope: str
    report_key: str
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., step_index: _Optional[int] = ..., from_user_id: _Optional[str] = ..., to_user_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., comment: _Optional[str] = ..., report_scope: _Optional[str] = ..., report_key: _Optional[str] = ...) -> None: ...

class ReassignStepResponse(_message.Message):
    __slots__ = ("new_tasks", "step", "pending_approvers")
    NEW_TASKS_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    PENDING_APPROVERS_FIELD_NUMBER: _ClassVar[int]
    new_tasks: _containers.RepeatedCompositeFieldContainer[ApprovalTask]
    step: StepState
    pending_approvers: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, new_tasks: _Optional[_Iterable[_Union[ApprovalTask, _Mapping]]] = ..., step: _Optional[_Union[StepState, _Mapping]] = ..., pending_approvers: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordActionRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "step_index", "actor_id", "action", "comment", "channel", "user_ids", "attachments")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    USER_IDS_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    step_index: int
    actor_id: str
    action: str
    comment: str
    channel: str
    user_ids: _containers.RepeatedScalarFieldContainer[str]
    attachments: _struct_pb2.ListValue
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., step_index: _Optional[int] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., channel: _Optional[str] = ..., user_ids: _Optional[_Iterable[str]] = ..., attachments: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ...) -> None: ...

class RecordActionResponse(_message.Message):
    __slots__ = ("action", "cc", "step_index")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    action: Decision
    cc: _containers.RepeatedCompositeFieldContainer[CcRecord]
    step_index: int
    def __init__(self, action: _Optional[_Union[Decision, _Mapping]] = ..., cc: _Optional[_Iterable[_Union[CcRecord, _Mapping]]] = ..., step_index: _Optional[int] = ...) -> None: ...

class ListCcRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListCcResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CcRecord]
    def __init__(self, items: _Optional[_Iterable[_Union[CcRecord, _Mapping]]] = ...) -> None: ...

class MarkCcReadRequest(_message.Message):
    __slots__ = ("cc_id", "user_id")
    CC_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    cc_id: str
    user_id: str
    def __init__(self, cc_id: _Optional[str] = ..., user_id: _Optional[str] = ...) -> None: ...

class MarkCcReadResponse(_message.Message):
    __slots__ = ("cc",)
    CC_FIELD_NUMBER: _ClassVar[int]
    cc: CcRecord
    def __init__(self, cc: _Optional[_Union[CcRecord, _Mapping]] = ...) -> None: ...

class Delegation(_message.Message):
    __slots__ = ("user_id", "delegate_id", "starts_at", "ends_at")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    delegate_id: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    def __init__(self, user_id: _Optional[str] = ..., delegate_id: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetDelegationRequest(_message.Message):
    __slots__ = ("request_id", "user_id", "delegate_id", "starts_at", "ends_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DELEGATE_ID_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    user_id: str
    delegate_id: str
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., user_id: _Optional[str] = ..., delegate_id: _Optional[str] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetDelegationResponse(_message.Message):
    __slots__ = ("delegation",)
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    delegation: Delegation
    def __init__(self, delegation: _Optional[_Union[Delegation, _Mapping]] = ...) -> None: ...

class GetDelegationRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class GetDelegationResponse(_message.Message):
    __slots__ = ("delegation",)
    DELEGATION_FIELD_NUMBER: _ClassVar[int]
    delegation: Delegation
    def __init__(self, delegation: _Optional[_Union[Delegation, _Mapping]] = ...) -> None: ...

class WhatIfRequest(_message.Message):
    __slots__ = ("form_key", "steps", "options", "limit")
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    form_key: str
    steps: _containers.RepeatedCompositeFieldContainer[PolicyStep]
    options: PolicyOptions
    limit: int
    def __init__(self, form_key: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[PolicyStep, _Mapping]]] = ..., options: _Optional[_Union[PolicyOptions, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class StepApproversChange(_message.Message):
    __slots__ = ("step", "before", "after")
    STEP_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    step: str
    before: _containers.RepeatedScalarFieldContainer[str]
    after: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, step: _Optional[str] = ..., before: _Optional[_Iterable[str]] = ..., after: _Optional[_Iterable[str]] = ...) -> None: ...

class WhatIfItem(_message.Message):
    __slots__ = ("project_id", "instance_id", "added", "removed", "approvers_changed", "before", "after")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_CHANGED_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    instance_id: str
    added: _containers.RepeatedScalarFieldContainer[str]
    removed: _containers.RepeatedScalarFieldContainer[str]
    approvers_changed: _containers.RepeatedCompositeFieldContainer[StepApproversChange]
    before: _containers.RepeatedScalarFieldContainer[str]
    after: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., added: _Optional[_Iterable[str]] = ..., removed: _Optional[_Iterable[str]] = ..., approvers_changed: _Optional[_Iterable[_Union[StepApproversChange, _Mapping]]] = ..., before: _Optional[_Iterable[str]] = ..., after: _Optional[_Iterable[str]] = ...) -> None: ...

class WhatIfResponse(_message.Message):
    __slots__ = ("evaluated", "changed", "items")
    EVALUATED_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    evaluated: int
    changed: int
    items: _containers.RepeatedCompositeFieldContainer[WhatIfItem]
    def __init__(self, evaluated: _Optional[int] = ..., changed: _Optional[int] = ..., items: _Optional[_Iterable[_Union[WhatIfItem, _Mapping]]] = ...) -> None: ...

class CheckActionLinkRequest(_message.Message):
    __slots__ = ("link_id", "task_id", "approver_id")
    LINK_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    link_id: str
    task_id: str
    approver_id: str
    def __init__(self, link_id: _Optional[str] = ..., task_id: _Optional[str] = ..., approver_id: _Optional[str] = ...) -> None: ...

class CheckActionLinkResponse(_message.Message):
    __slots__ = ("state", "task")
    STATE_FIELD_NUMBER: _ClassVar[int]
    TASK_FIELD_NUMBER: _ClassVar[int]
    state: str
    task: ApprovalTask
    def __init__(self, state: _Optional[str] = ..., task: _Optional[_Union[ApprovalTask, _Mapping]] = ...) -> None: ...

class CalendarOverride(_message.Message):
    __slots__ = ("date", "kind", "name")
    DATE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    date: str
    kind: str
    name: str
    def __init__(self, date: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class GetCalendarRequest(_message.Message):
    __slots__ = ("year",)
    YEAR_FIELD_NUMBER: _ClassVar[int]
    year: int
    def __init__(self, year: _Optional[int] = ...) -> None: ...

class GetCalendarResponse(_message.Message):
    __slots__ = ("overrides",)
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    overrides: _containers.RepeatedCompositeFieldContainer[CalendarOverride]
    def __init__(self, overrides: _Optional[_Iterable[_Union[CalendarOverride, _Mapping]]] = ...) -> None: ...

class PutCalendarRequest(_message.Message):
    __slots__ = ("year", "overrides", "actor_id")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    year: int
    overrides: _containers.RepeatedCompositeFieldContainer[CalendarOverride]
    actor_id: str
    def __init__(self, year: _Optional[int] = ..., overrides: _Optional[_Iterable[_Union[CalendarOverride, _Mapping]]] = ..., actor_id: _Optional[str] = ...) -> None: ...

class PutCalendarResponse(_message.Message):
    __slots__ = ("overrides",)
    OVERRIDES_FIELD_NUMBER: _ClassVar[int]
    overrides: _containers.RepeatedCompositeFieldContainer[CalendarOverride]
    def __init__(self, overrides: _Optional[_Iterable[_Union[CalendarOverride, _Mapping]]] = ...) -> None: ...
