"""Custom search attributes that make the Temporal UI the ops console for stuck approvals.

They must be registered on the namespace (``temporal server start-dev --search-attribute
BaobeiStage=Keyword ...``, or ``OperatorService.AddSearchAttributes``); ``ALL`` lists them for
that. Example: ``BaobeiStage = "approval" AND BaobeiSlaDeadline < "2026-12-01T00:00:00Z"``.

``BaobeiCode`` (the project code people quote, ``BB-2026-000123``) is set when each per-project
workflow starts (lifecycle, execution, protection, closure, CRM loss), with the code and name as
the workflow's summary in the UI (:func:`project_start_options`): ``BaobeiCode = "BB-2026-000123"``
lists all of a project's workflows.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

STAGE = SearchAttributeKey.for_keyword("BaobeiStage")
APPROVERS = SearchAttributeKey.for_keyword_list("BaobeiApprovers")
AMOUNT = SearchAttributeKey.for_float("BaobeiAmount")
REGION = SearchAttributeKey.for_keyword("BaobeiRegion")
SLA_DEADLINE = SearchAttributeKey.for_datetime("BaobeiSlaDeadline")
CODE = SearchAttributeKey.for_keyword("BaobeiCode")

ALL: tuple[SearchAttributeKey[Any], ...] = (STAGE, APPROVERS, AMOUNT, REGION, SLA_DEADLINE, CODE)
# What each per-project workflow's summary starts with in the Temporal UI's list.
KIND_LABELS = {
    "ProjectLifecycle": "报备审批 lifecycle",
    "ProjectExecution": "执行 execution",
    "ProjectProtection": "保护期 protection",
    "ProjectClosure": "关闭 closure",
    "ProjectAcceptance": "验收 acceptance",
    "ProjectChange": "变更 change",
    "CrmOpportunityLost": "CRM 丢单 lost",
}


def project_start_options(workflow_type: str, code: str, name: str = "") -> dict[str, Any]:
    """Keyword arguments for ``start_workflow`` / ``workflow.start_child_workflow`` of a
    per-project workflow: ``BaobeiCode`` and a summary/details naming the project in the Temporal
    UI. Empty when the code is unknown (the start is then as before). Set at start, so no patch:
    neither is part of the determinism check of a child start."""
    if not code:
        return {}
    kind = KIND_LABELS.get(workflow_type, workflow_type)
    summary = f"{code} {name}".strip()
    return {
        "search_attributes": TypedSearchAttributes([SearchAttributePair(CODE, code)]),
        # The UI shows the summary in the list (plain text, short) and the details on the page.
        "static_summary": f"{summary[:150]} · {kind}",
        "static_details": f"{code} {name}\n{kind}",
    }


def dev_server_args() -> list[str]:
    """``--search-attribute Name=Type`` arguments for ``temporal server start-dev``."""
    kinds = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "DOUBLE": "Double", "DATETIME": "Datetime"}
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}"]
    return args
