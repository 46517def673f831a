"""Finance vouchers (金蝶 / 用友 style) as actual costs: what a voucher must hold to be booked, and
its fingerprint (a repeat of the same voucher changes nothing; the same id with other content is a
conflict). Pure: no storage, no clock."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from baobei.core.errors import FieldViolation
from services.tasks.domain import MAX_MONEY

CURRENCY = "CNY"
# Costs booked from vouchers carry this kind (beside timesheet / expense / purchase entered by hand).
KIND = "finance"
MAX_ID, MAX_CATEGORY, MAX_DESCRIPTION = 64, 50, 400
_ID = re.compile(r"^[^\x00-\x1f\x7f]+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class VoucherIn:
    row: int
    voucher_id: str
    project_id: str
    amount: str
    currency: str = ""
    category: str = ""
    occurred_on: str = ""
    description: str = ""


@dataclass(frozen=True)
class Voucher:
    """A voucher fit to book."""

    voucher_id: str
    project_id: str
    amount: Decimal
    category: str
    occurred_on: date
    description: str

    @property
    def fingerprint(self) -> str:
        canon = json.dumps([self.project_id, str(self.amount), CURRENCY, self.category,
                            self.occurred_on.isoformat(), self.description], ensure_ascii=False)
        return hashlib.sha256(canon.encode()).hexdigest()

    @property
    def note(self) -> str:
        head = f"凭证 {self.voucher_id}" + (f"｜{self.category}" if self.category else "")
        return f"{head}：{self.description}" if self.description else head


def _v(field: str, zh: str, en: str) -> FieldViolation:
    return FieldViolation(field, zh, en)


def check(v: VoucherIn) -> tuple[Voucher | None, list[FieldViolation]]:
    """The voucher to book, or every problem with its field (``amount``, ``occurred_on`` …)."""
    problems: list[FieldViolation] = []
    voucher_id = v.voucher_id.strip()
    if not voucher_id or len(voucher_id) > MAX_ID or not _ID.match(voucher_id):
        problems.append(_v("voucher_id", f"凭证号为必填项（最多 {MAX_ID} 个字符）",
                           f"voucher_id is required (at most {MAX_ID} characters)"))
    if not v.project_id.strip():
        problems.append(_v("project_id", "未指定项目", "no project"))
    amount: Decimal | None = None
    try:
        amount = Decimal(v.amount.strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        problems.append(_v("amount", "金额必须是数字（元）", "amount must be a number (yuan)"))
        amount = None
    elif amount <= 0 or amount > MAX_MONEY:
        problems.append(_v("amount", "金额必须大于 0 且不超过 1 万亿元", "amount must be > 0 and at most 10^12"))
        amount = None
    elif amount != amount.quantize(_CENT):
        problems.append(_v("amount", "金额最多保留 2 位小数", "amount has more than 2 decimals"))
        amount = None
    if (v.currency.strip().upper() or CURRENCY) != CURRENCY:
        problems.append(_v("currency", "币种只支持 CNY（人民币）", "only CNY is supported"))
    category, description = v.category.strip(), v.description.strip()
    if len(category) > MAX_CATEGORY:
        problems.append(_v("category", f"类别最多 {MAX_CATEGORY} 个字符",
                           f"category: at most {MAX_CATEGORY} characters"))
    if len(description) > MAX_DESCRIPTION:
        problems.append(_v("description", f"摘要最多 {MAX_DESCRIPTION} 个字符",
                           f"description: at most {MAX_DESCRIPTION} characters"))
    day: date | None = None
    if _DAY.match(v.occurred_on.strip()):
        try:
            day = date.fromisoformat(v.occurred_on.strip())
        except ValueError:
            day = None
    if day is None:
        problems.append(_v("occurred_on", "发生日期须为 YYYY-MM-DD 的有效日期",
                           "occurred_on must be a date YYYY-MM-DD"))
    if problems or amount is None or day is None:
        return None, problems
    return Voucher(voucher_id=voucher_id, project_id=v.project_id.strip(), amount=amount.quantize(_CENT),
                   category=category, occurred_on=day, description=description), []
