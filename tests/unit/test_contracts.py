"""The names recorded in workflow histories stay what they were, and workflows call activities by
method reference only (a renamed method or a typo fails here and in mypy, not at run time)."""

from __future__ import annotations

import ast
import dataclasses
import pathlib
from typing import Any

from temporalio import activity, workflow

from workflows import delivery_worker, worker
from workflows.activities import ApprovalActivities, NotifyActivities, RegistryActivities, ReportingActivities
from workflows.activities.acceptance import AcceptanceActivities
from workflows.activities.audit import AuditActivities
from workflows.activities.change import ChangeActivities
from workflows.activities.finish import FinishActivities
from workflows.activities.lifecycle_ops import LifecycleOps
from workflows.activities.org import OrgActivities
from workflows.activities.tasks import ProtectionInfoActivities, RecipientActivities, TasksActivities
from workflows.activities.webhooks import WebhookActivities
from workflows.contracts import lifecycle, registry

ROOT = pathlib.Path(__file__).resolve().parents[2]

# As in the recorded histories (tests/replay/histories) and in running workflows: never change.
ACTIVITY_NAMES = {
    "registry.GetProject", "registry.SubmitProject", "registry.SetProjectStatus", "registry.StartProtection",
    "registry.ExpireProtection", "registry.ResolveRecipients", "registry.ProtectionInfo",
    "registry.GetManagerChain", "approval.PlanChain", "approval.OpenStep", "approval.RecordDecision",
    "approval.FireTimer", "approval.ResumeInstance", "approval.CancelInstance", "approval.ReassignStep",
    "approval.RecordAction", "approval.ListTodos", "notify.Send", "notify.Deliver", "notify.DeliverDigest",
    "notify.DeadLetter", "reporting.IngestEvent", "tasks.ApplyTemplate", "tasks.SaveBaseline",
    "tasks.EvaluateRules", "tasks.RecordFire", "webhook.Deliver", "lifecycle.Withdraw", "lifecycle.Decide",
    "lifecycle.StopExecution", "lifecycle.StartDelivery", "audit.purge", "acceptance.SettleRequest",
    # issue 16 (报备交接): OrgHandover hands the departing user's registrations over too
    "registry.HandOverProjects",
    "change.SettleChange",
    # issue 15 (patch finish-in-one): the approval's end in one local activity
    "lifecycle.Finish",
    # issue 15 (patches plan-start-in-one, task-events-batch): ProjectExecution's fewer calls
    "tasks.StartPlan", "reporting.IngestEvents",
}
WORKFLOW_NAMES = {
    "ProjectLifecycle", "ProjectExecution", "ProjectProtection", "NotificationDelivery", "CrmOpportunityLost",
    "OrgHandover", "ProjectClosure", "AuditRetention", "ProjectAcceptance",
    "ProjectChange",
}
ACTIVITY_CLASSES: list[type[Any]] = [
    RegistryActivities, ApprovalActivities, NotifyActivities, ReportingActivities, TasksActivities,
    RecipientActivities, ProtectionInfoActivities, WebhookActivities, OrgActivities, LifecycleOps, AuditActivities,
    AcceptanceActivities, ChangeActivities, FinishActivities,
]


def _activity_names() -> set[str]:
    names = set()
    for cls in ACTIVITY_CLASSES:
        for attr in vars(cls).values():
            defn = activity._Definition.from_callable(attr) if callable(attr) else None
            if defn is not None and defn.name:
                names.add(defn.name)
    return names


def test_activity_type_names_unchanged() -> None:
    assert _activity_names() == ACTIVITY_NAMES


def test_workflow_type_names_unchanged() -> None:
    every = [*worker.WORKFLOWS, *delivery_worker.DELIVERY_WORKFLOWS]
    names = {workflow._Definition.must_from_class(cls).name for cls in every}
    assert names == WORKFLOW_NAMES


def test_workflows_call_activities_by_method_reference() -> None:
    """No ``workflow.execute_activity("<name>", ...)`` left: every call names a method, so the
    sandbox imports the activity classes and mypy checks the argument and result types."""
    offenders = []
    for path in sorted((ROOT / "workflows").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                "execute_activity", "start_activity", "execute_local_activity", "start_local_activity"
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_history_payload_shapes_unchanged() -> None:
    """Field names are in histories: a rename would break decoding of running workflows."""
    assert [f.name for f in dataclasses.fields(lifecycle.LifecycleInput)] == [
        "project_id", "owner_id", "carry", "history_limit", "project"  # project: added (issue 15), optional
    ]
    assert [f.name for f in dataclasses.fields(registry.ProjectSnapshot)] == [
        "id", "code", "name", "status", "amount", "owner_id", "department_id", "region", "business_line",
        "form_key", "customer_name", "start_date", "fields", "conflict_count", "conflicts",
    ]
