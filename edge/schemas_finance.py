"""Request and response models of the finance cost feed (`/api/v1/integrations/finance/costs`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import Model

Scalar = str | int | Decimal | float | None
BATCH_EXAMPLE: dict[str, Any] = {
    "source": "kingdee",
    "vouchers": [
        {"voucher_id": "记-2026-03-0012", "project_code": "BB-2026-000123", "amount": "1234.50", "currency": "CNY",
         "category": "差旅费", "occurred_on": "2026-03-05", "description": "上海客户现场差旅"},
    ],
}
ANSWER_EXAMPLE: dict[str, Any] = {
    "source": "kingdee",
    "summary": {"applied": 1, "duplicate": 1, "error": 1},
    "results": [
        {"row": 0, "voucher_id": "记-2026-03-0012", "status": "applied", "project_id": "p-1",
         "cost_id": "7d7c…", "errors": []},
        {"row": 1, "voucher_id": "记-2026-03-0011", "status": "duplicate", "project_id": "p-1",
         "cost_id": "1a2b…", "errors": []},
        {"row": 2, "voucher_id": "记-2026-03-0013", "status": "error", "project_id": None, "cost_id": None,
         "errors": [{"field": "project_code", "column": "项目编号", "code": "unknown_project",
                     "message": "项目编号 BB-404 不存在"}]},
    ],
}


class VoucherIn(Model):
    """One voucher. Values are judged per voucher: a bad one is answered as an `error` row, the
    others are still booked."""

    voucher_id: Scalar = Field(default=None, description="The finance system's voucher id (unique per source)")
    project_code: Scalar = Field(default=None, description="The project's code (项目编号)")
    amount: Scalar = Field(default=None, description="Yuan, > 0, at most 2 decimals (a decimal string or number)")
    currency: Scalar = Field(default="CNY", description="CNY only")
    category: Scalar = Field(default=None, description="Cost category (费用类别), ≤ 50 characters")
    occurred_on: Scalar = Field(default=None, description="YYYY-MM-DD")
    description: Scalar = Field(default=None, description="Summary (摘要), ≤ 400 characters")


class VoucherBatchIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [BATCH_EXAMPLE]})

    source: str = Field(default="finance", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$",
                        description="The sending system; voucher ids are unique per source")
    vouchers: list[VoucherIn] = Field(min_length=1, max_length=1000)


class RowError(Model):
    field: str = Field(description="voucher_id, project_code, amount, currency, category, occurred_on, description")
    column: str | None = Field(default=None, description="The sheet's column header (file imports)")
    code: str = Field(description="invalid_voucher, invalid_cell, unknown_project, project_not_active, "
                                  "voucher_conflict")
    message: str


class RowResult(Model):
    row: int = Field(description="Index in `vouchers` (0-based), or the sheet row (1-based; the header is row 1)")
    voucher_id: str
    status: str = Field(description="applied | duplicate (booked before with the same content: nothing changed) | "
                                    "error")
    project_id: str | None = None
    cost_id: str | None = Field(default=None, description="The cost it was booked as (applied, duplicate)")
    errors: list[RowError]


class Summary(Model):
    applied: int
    duplicate: int
    error: int


class CostFeedOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [ANSWER_EXAMPLE]})

    source: str
    summary: Summary
    results: list[RowResult]
