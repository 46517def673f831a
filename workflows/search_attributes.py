"""Custom search attributes that make the Temporal UI the ops console for stuck approvals.

They must be registered on the namespace (``temporal server start-dev --search-attribute
BaobeiStage=Keyword ...``, or ``OperatorService.AddSearchAttributes``); ``ALL`` lists them for
that. Example: ``BaobeiStage = "approval" AND BaobeiSlaDeadline < "2026-12-01T00:00:00Z"``.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

STAGE = SearchAttributeKey.for_keyword("BaobeiStage")
APPROVERS = SearchAttributeKey.for_keyword_list("BaobeiApprovers")
AMOUNT = SearchAttributeKey.for_float("BaobeiAmount")
REGION = SearchAttributeKey.for_keyword("BaobeiRegion")
SLA_DEADLINE = SearchAttributeKey.for_datetime("BaobeiSlaDeadline")

ALL: tuple[SearchAttributeKey[Any], ...] = (STAGE, APPROVERS, AMOUNT, REGION, SLA_DEADLINE)


def dev_server_args() -> list[str]:
    """``--search-attribute Name=Type`` arguments for ``temporal server start-dev``."""
    kinds = {"KEYWORD": "Keyword", "KEYWORD_LIST": "KeywordList", "DOUBLE": "Double", "DATETIME": "Datetime"}
    args: list[str] = []
    for key in ALL:
        args += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}"]
    return args
