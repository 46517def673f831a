"""The words of a registration sheet: core column headers (Chinese and English), status and yes/no
labels, and the cell kind of each form field type. Exports write these, the import template
writes these, and the import reads them back (one vocabulary, so an exported file re-imports)."""

from __future__ import annotations

from dataclasses import dataclass

# Cell kinds the renderer knows (number formats, widths, hints).
TEXT, MONEY, NUMBER, INT, DATE, DATETIME = "text", "money", "number", "int", "date", "datetime"
MONEY_FORMAT = "#,##0.00"
INT_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0#########"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class CoreColumn:
    key: str  # the import's target key
    zh: str
    en: str
    kind: str = TEXT
    # False: shown for reading, ignored when the file is imported back (code, department, …).
    importable: bool = True
    required: bool = False

    def header(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


ROW_KEY = CoreColumn("row_key", "行键", "Row key")
CODE = CoreColumn("code", "项目编号", "Project code", importable=False)
VERSION = CoreColumn("version", "版本", "Version", INT, importable=False)
# Export order; the template uses the importable ones (and 行键 first).
CORE_COLUMNS: tuple[CoreColumn, ...] = (
    CODE,
    CoreColumn("name", "项目名称", "Project name", required=True),
    CoreColumn("status", "状态", "Status"),
    CoreColumn("customer.name", "客户名称", "Customer name", required=True),
    CoreColumn("customer.uscc", "统一社会信用代码", "USCC"),
    CoreColumn("customer.contact", "联系人", "Contact"),
    CoreColumn("customer.phone", "客户电话", "Customer phone"),
    CoreColumn("amount", "金额", "Amount", MONEY, required=True),
    CoreColumn("region", "区域", "Region"),
    CoreColumn("business_line", "业务线", "Business line"),
    CoreColumn("start_date", "开始日期", "Start date", DATE),
    CoreColumn("end_date", "结束日期", "End date", DATE),
    CoreColumn("owner_id", "负责人", "Owner"),
    CoreColumn("department_id", "部门", "Department", importable=False),
    CoreColumn("form_key", "表单", "Form", importable=False),
    CoreColumn("created_at", "创建时间", "Created at", DATETIME, importable=False),
    VERSION,
)

# Project statuses as people read them (the web app's words).
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "draft": ("草稿", "Draft"),
    "pending_approval": ("审批中", "Pending approval"),
    "active": ("执行中", "Active"),
    "closed": ("已关闭", "Closed"),
    "returned": ("已退回", "Returned"),
    "rejected": ("已驳回", "Rejected"),
    "cancelled": ("已撤回", "Cancelled"),
}
# The statuses an import may file a project in (default active).
IMPORT_STATUSES = ("draft", "active", "closed")
YES_NO = {True: ("是", "Yes"), False: ("否", "No")}

# Form field type → cell kind (select/multiselect/user/department are text labels).
FIELD_KINDS = {"money": MONEY, "number": NUMBER, "date": DATE}
MULTI_SEPARATOR = "、"


def status_label(status: str, locale: str) -> str:
    zh, en = STATUS_LABELS.get(status, (status, status))
    return en if locale == "en" else zh


def yes_no(value: bool, locale: str) -> str:
    zh, en = YES_NO[value]
    return en if locale == "en" else zh


def field_kind(field_type: str) -> str:
    return FIELD_KINDS.get(field_type, TEXT)


def pick(locale: str, zh: str, en: str) -> str:
    return en if locale == "en" else zh
