"""Request and response bodies of change requests (变更) of active projects."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import ApprovalOut, IsoDate, Model, ProjectMoney


class ChangesIn(Model):
    """What to change. Only `amount`, `start_date`, `end_date` and `fields` may change (any other
    key → 422 naming `changes.<key>`); `fields` is merged into the project's fields (null clears
    one). Validated as the registration was, against the form version the project was filed with."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    amount: ProjectMoney | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    fields: dict[str, Any] | None = None


class ChangeIn(Model):
    changes: ChangesIn
    reason: str = Field(default="", max_length=2000, description="Why the change is needed (required)",
                        examples=["客户追加二期范围"])
    reset_baseline: bool = Field(default=False, description="Save the plan's baseline again once the change is "
                                 "approved and applied")


class ChangeWithdrawIn(Model):
    reason: str = Field(default="", max_length=2000)


class ChangeDiffOut(Model):
    field: str = Field(description="`amount`, `start_date`, `end_date` or `fields.<key>`")
    before: Any = None
    after: Any = None


class ChangeOut(Model):
    id: str
    project_id: str
    seq: int
    status: str = Field(description="pending | approved | rejected | withdrawn | cancelled")
    diff: list[ChangeDiffOut] = Field(
        description="Before/after of each changed value; fields the caller may not read are left out")
    reason: str
    reset_baseline: bool
    requested_by: str
    created_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    outcome_reason: str | None = Field(default=None, description="Why it was rejected or withdrawn")
    applied_version: int | None = Field(default=None, description="The project version the change was applied as")
    approval: ApprovalOut | None = Field(default=None, description="The change's own approval chain")


class ChangeList(Model):
    items: list[ChangeOut]
