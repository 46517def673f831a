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
TASK_STATUS_UNSPECIFIED: TaskStatus
TASK_STATUS_PENDING: TaskStatus
TASK_STATUS_APPROVED: TaskStatus
TASK_STATUS_REJECTED: TaskStatus
TASK_STATUS_CLOSED: TaskStatus

class Approvers(_message.Message):
    __slots__ = ("type", "user_id", "role")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    type: str
    user_id: str
    role: str
    def __init__(self, type: _Optional[str] = ..., user_id: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class PolicyStep(_message.Message):
    __slots__ = ("name", "when", "approvers", "mode", "sla", "escalate_to", "on_timeout")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WHEN_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_TO_FIELD_NUMBER: _ClassVar[int]
    ON_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    name: str
    when: str
    approvers: Approvers
    mode: str
    sla: str
    escalate_to: Approvers
    on_timeout: str
    def __init__(self, name: _Optional[str] = ..., when: _Optional[str] = ..., approvers: _Optional[_Union[Approvers, _Mapping]] = ..., mode: _Optional[str] = ..., sla: _Optional[str] = ..., escalate_to: _Optional[_Union[Approvers, _Mapping]] = ..., on_timeout: _Optional[str] = ...) -> None: ...

class Policy(_message.Message):
    __slots__ = ("key", "form_key", "version", "steps", "created_at")
    KEY_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    key: str
    form_key: str
    version: int
    steps: _containers.RepeatedCompositeFieldContainer[PolicyStep]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, key: _Optional[str] = ..., form_key: _Optional[str] = ..., version: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[PolicyStep, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PutPolicyRequest(_message.Message):
    __slots__ = ("request_id", "key", "form_key", "steps")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    key: str
    form_key: str
    steps: _containers.RepeatedCompositeFieldContainer[PolicyStep]
    def __init__(self, request_id: _Optional[str] = ..., key: _Optional[str] = ..., form_key: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[PolicyStep, _Mapping]]] = ...) -> None: ...

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
    __slots__ = ("project_id", "form_key", "name", "amount", "region", "business_line", "fields", "conflict_count")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    FORM_KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_LINE_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    CONFLICT_COUNT_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    form_key: str
    name: str
    amount: str
    region: str
    business_line: str
    fields: _struct_pb2.Struct
    conflict_count: int
    def __init__(self, project_id: _Optional[str] = ..., form_key: _Optional[str] = ..., name: _Optional[str] = ..., amount: _Optional[str] = ..., region: _Optional[str] = ..., business_line: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., conflict_count: _Optional[int] = ...) -> None: ...

class PlannedStep(_message.Message):
    __slots__ = ("index", "name", "mode", "approvers", "sla_seconds", "sla", "on_timeout", "escalate_to")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    SLA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SLA_FIELD_NUMBER: _ClassVar[int]
    ON_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    ESCALATE_TO_FIELD_NUMBER: _ClassVar[int]
    index: int
    name: str
    mode: str
    approvers: _containers.RepeatedScalarFieldContainer[str]
    sla_seconds: int
    sla: str
    on_timeout: str
    escalate_to: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., name: _Optional[str] = ..., mode: _Optional[str] = ..., approvers: _Optional[_Iterable[str]] = ..., sla_seconds: _Optional[int] = ..., sla: _Optional[str] = ..., on_timeout: _Optional[str] = ..., escalate_to: _Optional[_Iterable[str]] = ...) -> None: ...

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
    __slots__ = ("request_id", "project", "submitter_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SUBMITTER_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    project: ProjectFacts
    submitter_id: str
    def __init__(self, request_id: _Optional[str] = ..., project: _Optional[_Union[ProjectFacts, _Mapping]] = ..., submitter_id: _Optional[str] = ...) -> None: ...

class PlanChainResponse(_message.Message):
    __slots__ = ("instance_id", "policy_key", "policy_version", "steps")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    policy_key: str
    policy_version: int
    steps: _containers.RepeatedCompositeFieldContainer[PlannedStep]
    def __init__(self, instance_id: _Optional[str] = ..., policy_key: _Optional[str] = ..., policy_version: _Optional[int] = ..., steps: _Optional[_Iterable[_Union[PlannedStep, _Mapping]]] = ...) -> None: ...

class ApprovalTask(_message.Message):
    __slots__ = ("id", "instance_id", "project_id", "step_index", "step_name", "approver_id", "status", "due_at", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_NAME_FIELD_NUMBER: _ClassVar[int]
    APPROVER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    instance_id: str
    project_id: str
    step_index: int
    step_name: str
    approver_id: str
    status: TaskStatus
    due_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., instance_id: _Optional[str] = ..., project_id: _Optional[str] = ..., step_index: _Optional[int] = ..., step_name: _Optional[str] = ..., approver_id: _Optional[str] = ..., status: _Optional[_Union[TaskStatus, str]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("user_id", "action", "comment", "at", "channel", "auto")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    AUTO_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    action: str
    comment: str
    at: _timestamp_pb2.Timestamp
    channel: str
    auto: bool
    def __init__(self, user_id: _Optional[str] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., channel: _Optional[str] = ..., auto: _Optional[bool] = ...) -> None: ...

class StepState(_message.Message):
    __slots__ = ("index", "name", "mode", "status", "approvers", "decisions")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    APPROVERS_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    index: int
    name: str
    mode: str
    status: str
    approvers: _containers.RepeatedScalarFieldContainer[str]
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    def __init__(self, index: _Optional[int] = ..., name: _Optional[str] = ..., mode: _Optional[str] = ..., status: _Optional[str] = ..., approvers: _Optional[_Iterable[str]] = ..., decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ...) -> None: ...

class OpenStepRequest(_message.Message):
    __slots__ = ("request_id", "instance_id", "step_index")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_INDEX_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    instance_id: str
    step_index: int
    def __init__(self, request_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., step_index: _Optional[int] = ...) -> None: ...

class OpenStepResponse(_message.Message):
    __slots__ = ("step", "tasks", "auto_approved")
    STEP_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    AUTO_APPROVED_FIELD_NUMBER: _ClassVar[int]
    step: StepState
    tasks: _containers.RepeatedCompositeFieldContainer[ApprovalTask]
    auto_approved: bool
    def __init__(self, step: _Optional[_Union[StepState, _Mapping]] = ..., tasks: _Optional[_Iterable[_Union[ApprovalTask, _Mapping]]] = ..., auto_approved: _Optional[bool] = ...) -> None: ...

class RecordDecisionRequest(_message.Message):
    __slots__ = ("request_id", "task_id", "actor_id", "action", "comment", "channel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    task_id: str
    actor_id: str
    action: str
    comment: str
    channel: str
    def __init__(self, request_id: _Optional[str] = ..., task_id: _Optional[str] = ..., actor_id: _Optional[str] = ..., action: _Optional[str] = ..., comment: _Optional[str] = ..., channel: _Optional[str] = ...) -> None: ...

class RecordDecisionResponse(_message.Message):
    __slots__ = ("task", "step", "step_outcome")
    TASK_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STEP_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    task: ApprovalTask
    step: StepState
    step_outcome: str
    def __init__(self, task: _Optional[_Union[ApprovalTask, _Mapping]] = ..., step: _Optional[_Union[StepState, _Mapping]] = ..., step_outcome: _Optional[str] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("task_id",)
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: str
    def __init__(self, task_id: _Optional[str] = ...) -> None: ...

class GetTaskResponse(_message.Message):
    __slots__ = ("task",)
    TASK_FIELD_NUMBER: _ClassVar[int]
    task: ApprovalTask
    def __init__(self, task: _Optional[_Union[ApprovalTask, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class Instance(_message.Message):
    __slots__ = ("id", "project_id", "policy_key", "policy_version", "status", "steps")
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    POLICY_KEY_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    id: str
    project_id: str
    policy_key: str
    policy_version: int
    status: str
    steps: _containers.RepeatedCompositeFieldContainer[StepState]
    def __init__(self, id: _Optional[str] = ..., project_id: _Optional[str] = ..., policy_key: _Optional[str] = ..., policy_version: _Optional[int] = ..., status: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[StepState, _Mapping]]] = ...) -> None: ...

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
