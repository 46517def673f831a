"""Vocabulary of the approval engine: policy option values, actions, and the statuses and kinds of
instances, steps and tasks."""

from __future__ import annotations

import re

from baobei.workcalendar import DURATION_RE

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SLA_RE = DURATION_RE
APPROVER_TYPES = (
    "user",
    "role",
    "manager_of_submitter",
    "manager_level",
    "managers_chain",
    "department_head",
)
ROLE_SCOPES = ("", "department", "region")
MODES = ("any", "all", "sequential", "ratio")
TIMEOUT_ACTIONS = ("escalate", "approve", "reject")
LADDER_ACTIONS = ("remind", "escalate", "approve", "reject")
NO_APPROVER_RULES = ("skip", "admin", "block")
SUBMITTER_RULES = ("", "skip_to_manager", "self_approve")
# Decisions an approver takes on a task; other audit actions are listed in AUDIT_ACTIONS.
ACTIONS = ("approve", "reject", "return", "transfer", "add_approver")
POSITIONS = ("before", "after", "parallel")
AUDIT_ACTIONS = ACTIONS + (
    "remind",
    "cc",
    "comment",
    "withdraw",
    "cancel",
    "reassign",
    "escalate",
    "timeout_approve",
    "timeout_reject",
    "resubmit",
)

# Step statuses (StepState.status) and task statuses.
STEP_WAITING, STEP_PENDING, STEP_APPROVED, STEP_REJECTED, STEP_SKIPPED, STEP_RETURNED = (
    "waiting",
    "pending",
    "approved",
    "rejected",
    "skipped",
    "returned",
)
INSTANCE_PENDING, INSTANCE_APPROVED, INSTANCE_REJECTED = "pending", "approved", "rejected"
INSTANCE_RETURNED, INSTANCE_CANCELLED = "returned", "cancelled"
# An open instance replaced by a resubmission of its project.
INSTANCE_SUPERSEDED = "superseded"
TASK_PENDING, TASK_APPROVED, TASK_REJECTED, TASK_CLOSED, TASK_WAITING = (
    "pending",
    "approved",
    "rejected",
    "closed",
    "waiting",
)
# Task kinds: a planned approver (or one added in parallel / by transfer); one added before or
# after an approver (加签); an escalation resolver, whose decision settles the step alone.
KIND_NORMAL, KIND_BEFORE, KIND_AFTER, KIND_ESCALATED = "normal", "before", "after", "escalated"
OUTCOME_PENDING, OUTCOME_APPROVED, OUTCOME_REJECTED, OUTCOME_RETURNED = "pending", "approved", "rejected", "returned"
AUTO_APPROVE_COMMENT = "同一审批人连续审批，自动通过"
SELF_APPROVE_COMMENT = "审批人即提交人，按策略自动通过"
SYSTEM_ACTOR = "system"
