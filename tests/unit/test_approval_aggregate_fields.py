"""The domain's dataclasses of a loaded instance have exactly the columns of their tables: the
store copies them field by field, so a column added on one side only would be lost silently."""

from __future__ import annotations

import dataclasses

import pytest

from services.approval import domain
from services.approval.models import (
    ApprovalCC,
    ApprovalDecision,
    ApprovalInstance,
    ApprovalLinkUse,
    ApprovalStep,
    ApprovalTask,
)


@pytest.mark.parametrize(
    ("cls", "table"),
    [
        (domain.Instance, ApprovalInstance),
        (domain.Step, ApprovalStep),
        (domain.Task, ApprovalTask),
        (domain.Decision, ApprovalDecision),
        (domain.CcCopy, ApprovalCC),
        (domain.LinkUse, ApprovalLinkUse),
    ],
)
def test_dataclass_fields_are_the_table_columns(cls: type, table: type) -> None:
    columns = {c.name for c in table.__table__.columns}  # type: ignore[attr-defined]
    assert {f.name for f in dataclasses.fields(cls)} == columns
