"""Acceptance rules as plain functions: what blocks a request (required deliverables, their
documents, unknown keys), checklist validation, and which policy keys are reserved for purposes."""

from __future__ import annotations

from services.approval.domain import PURPOSE_ACCEPTANCE, PURPOSE_REGISTRATION, policy_purpose, purpose_of
from services.approval.domain.policies import valid_key
from services.registry.acceptance.store import Item, State, check_deliverables, validate_items
from workflows.contracts.acceptance import acceptance_policy_keys

ITEMS = [Item("report", "实施报告"), Item("signoff", "客户签字验收单", needs_document=True),
         Item("training", "用户培训", required=False, needs_document=True)]


def fields(states: list[State], documented: frozenset[str] = frozenset()) -> list[str]:
    return [v.field for v in check_deliverables(ITEMS, states, set(documented))]


def test_required_deliverables_and_documents() -> None:
    assert fields([]) == ["deliverables.report", "deliverables.signoff"]
    assert fields([State("report", True), State("signoff", False)]) == ["deliverables.signoff"]
    assert fields([State("report", True), State("signoff", True)]) == ["documents.signoff"]
    assert fields([State("report", True), State("signoff", True)], frozenset({"signoff"})) == []
    # An optional deliverable marked done still needs its document; not done, nothing is asked.
    assert fields([State("report", True), State("signoff", True), State("training", True)], frozenset({"signoff"})) == [
        "documents.training"]
    assert fields([State("x", True), State("report", True), State("signoff", True)], frozenset({"signoff"})) == [
        "deliverables[0].key"]
    messages = [v.zh for v in check_deliverables(ITEMS, [], set())]
    assert messages == ["必需的交付物未完成：实施报告", "必需的交付物未完成：客户签字验收单"]


def test_checklist_validation() -> None:
    assert validate_items(ITEMS) == []
    bad = validate_items([Item("a b", "x"), Item("ok", ""), Item("ok", "重复")])
    assert [v.field for v in bad] == ["items[0].key", "items[1].name", "items[2].key"]


def test_reserved_policy_keys() -> None:
    assert policy_purpose("acceptance") == PURPOSE_ACCEPTANCE
    assert policy_purpose("acceptance:系统集成") == PURPOSE_ACCEPTANCE
    assert policy_purpose("acceptance-like") == PURPOSE_REGISTRATION
    assert policy_purpose("standard") == PURPOSE_REGISTRATION
    assert purpose_of("") == PURPOSE_REGISTRATION
    assert valid_key("acceptance:系统集成") and valid_key("standard")
    assert not valid_key("acceptance:a b") and not valid_key("acceptance:") and not valid_key("other:x")
    assert acceptance_policy_keys("云") == ["acceptance:云", "acceptance"]
    assert acceptance_policy_keys("") == ["acceptance"]
