"""Projects as export tables: one sheet per form (named by the form's title) and a notes sheet,
or one flat table for CSV. Values are typed for Excel — amounts and number fields as numbers,
dates as dates, times in Asia/Shanghai — and enumerations become labels people read: statuses,
yes/no, people and departments by name (``张三（zhangsan）`` when a name is not unique, so the file
imports back).

Field permissions come from the registry: a restricted value is already blank, and a column every
row of a sheet withholds (``Project.hidden``) is left out, so its header does not appear either."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp

from baobei.registry.v1 import registry_service_pb2 as pb
from baobei.sheets.columns import (
    CORE_COLUMNS,
    DATE,
    MONEY,
    MULTI_SEPARATOR,
    NUMBER,
    TIMEZONE,
    CoreColumn,
    field_kind,
    pick,
    status_label,
    yes_no,
)
from baobei.sheets.render import Column, Table, sheet_title

LOCAL = ZoneInfo(TIMEZONE)
# Core columns the registry can withhold (a form's core_fields read restriction).
_CORE_PATHS = {"amount", "customer.name", "customer.uscc", "customer.contact", "customer.phone", "region",
               "business_line", "start_date", "end_date"}
FILTER_LABELS: dict[str, tuple[str, str]] = {
    "status": ("状态", "Status"), "q": ("关键词", "Search text"), "owner_id": ("负责人", "Owner"),
    "department_id": ("部门", "Department"), "region": ("区域", "Region"),
    "business_line": ("业务线", "Business line"), "customer": ("客户", "Customer"),
    "amount_min": ("金额不少于", "Amount from"), "amount_max": ("金额不超过", "Amount to"),
    "created_from": ("创建日期起", "Created from"), "created_to": ("创建日期止", "Created to"),
    "form_key": ("表单", "Form"),
}


@dataclass
class Directory:
    """How people and departments are written: id → shown text (``display_names``)."""

    users: dict[str, str] = field(default_factory=dict)
    departments: dict[str, str] = field(default_factory=dict)

    def user(self, user_id: str) -> str:
        return self.users.get(user_id, user_id)

    def department(self, department_id: str) -> str:
        return self.departments.get(department_id, department_id)


def display_names(entries: Iterable[tuple[str, str]]) -> dict[str, str]:
    """id → how a sheet names it: the name where it is unique (importing the name finds that
    one), ``张三（zhangsan）`` where several share it (the import reads the id in brackets), the id
    where there is no name."""
    pairs = list(entries)
    counts = Counter(name for _, name in pairs if name)
    return {i: (name if counts[name] == 1 else f"{name}（{i}）") if name and name != i else i for i, name in pairs}


def local_time(ts: Timestamp) -> dt.datetime | None:
    """A protobuf Timestamp as a naive Asia/Shanghai datetime (what Excel stores), None if unset."""
    if not ts.seconds and not ts.nanos:
        return None
    return ts.ToDatetime(tzinfo=dt.UTC).astimezone(LOCAL).replace(tzinfo=None, microsecond=0)


def _decimal(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    try:
        d = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        return value
    return d if d.is_finite() else value


def _date(value: Any) -> Any:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return value


@dataclass(frozen=True)
class _Col:
    column: Column
    value: Callable[[pb.Project, Mapping[str, Any]], Any]
    path: str  # the registry path it shows (for Project.hidden)


class _Export:
    def __init__(self, forms: Mapping[tuple[str, int], pb.Form], directory: Directory, locale: str) -> None:
        self.forms, self.directory, self.locale = forms, directory, locale

    def core(self, col: CoreColumn) -> _Col:
        return _Col(Column(col.header(self.locale), col.kind), self._core_value(col.key), col.key)

    def _core_value(self, key: str) -> Callable[[pb.Project, Mapping[str, Any]], Any]:
        d, loc = self.directory, self.locale
        getters: dict[str, Callable[[pb.Project, Mapping[str, Any]], Any]] = {
            "code": lambda p, _: p.code,
            "name": lambda p, _: p.name,
            "status": lambda p, _: status_label(pb.ProjectStatus.Name(p.status).removeprefix(
                "PROJECT_STATUS_").lower(), loc),
            "amount": lambda p, _: _decimal(p.amount) if p.amount else None,
            "region": lambda p, _: p.region,
            "business_line": lambda p, _: p.business_line,
            "start_date": lambda p, _: _date(p.start_date) if p.start_date else None,
            "end_date": lambda p, _: _date(p.end_date) if p.end_date else None,
            "owner_id": lambda p, _: d.user(p.owner_id),
            "department_id": lambda p, _: d.department(p.department_id) if p.department_id else "",
            "form_key": lambda p, _: p.form_key,
            "created_at": lambda p, _: local_time(p.created_at),
            "version": lambda p, _: p.version,
        }
        if key.startswith("customer."):
            attr = key.removeprefix("customer.")
            return lambda p, _: getattr(p.customer, attr)
        return getters[key]

    def field(self, f: pb.FormField, header: str) -> _Col:
        kind = field_kind(f.type)
        return _Col(Column(header, kind), lambda _, values: self.field_value(f.type, values.get(f.key)),
                    f"fields.{f.key}")

    def field_value(self, field_type: str, value: Any) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, list):
            return MULTI_SEPARATOR.join(str(self.field_value(field_type, v) or "") for v in value)
        if isinstance(value, bool):
            return yes_no(value, self.locale)
        kind = field_kind(field_type)
        if kind in (MONEY, NUMBER):
            return _decimal(value)
        if kind == DATE:
            return _date(value)
        if field_type == "user":
            return self.directory.user(str(value))
        if field_type == "department":
            return self.directory.department(str(value))
        if isinstance(value, dict):
            return str(value)
        return value

    def columns(self, projects: Sequence[pb.Project], values: Sequence[Mapping[str, Any]]) -> list[_Col]:
        """Core columns, then the forms' fields (newest definition first), then values no definition
        names; without the columns every row withholds."""
        cols = [self.core(c) for c in CORE_COLUMNS]
        defs = sorted({(p.form_key, p.form_version) for p in projects}, key=lambda kv: (kv[0], -kv[1]))
        seen: set[str] = set()
        headers = Counter(c.column.header for c in cols)
        fields: list[tuple[pb.FormField, str]] = []
        for key in defs:
            for f in self.forms[key].fields if key in self.forms else ():
                if f.key not in seen:
                    seen.add(f.key)
                    fields.append((f, f.label or f.key))
        for v in values:
            for k in v:
                if k not in seen:
                    seen.add(k)
                    fields.append((pb.FormField(key=k, type="text"), k))
        for f, label in fields:
            header = label if headers[label] == 0 else f"{label} ({f.key})"
            headers[header] += 1
            cols.append(self.field(f, header))
        return [c for c in cols if not _withheld_everywhere(c.path, projects)]

    def table(self, title: str, projects: Sequence[pb.Project]) -> Table:
        values = [_fields(p) for p in projects]
        cols = self.columns(projects, values)
        rows = [[c.value(p, v) for c in cols] for p, v in zip(projects, values, strict=True)]
        return Table(title, [c.column for c in cols], rows)


def _fields(p: pb.Project) -> dict[str, Any]:
    return MessageToDict(p.fields) if p.fields.fields else {}


def _withheld_everywhere(path: str, projects: Sequence[pb.Project]) -> bool:
    if not projects or not (path in _CORE_PATHS or path.startswith("fields.")):
        return False
    return all(path in p.hidden for p in projects)


def project_tables(
    projects: Sequence[pb.Project], forms: Mapping[tuple[str, int], pb.Form], directory: Directory, locale: str
) -> list[Table]:
    """One table per form, in the order the forms first appear, titled by the form's title — or
    by its key where several exported forms share a title (the import finds a form's sheet by its
    title or key, so no sheet may carry another form's title)."""
    export = _Export(forms, directory, locale)
    groups: dict[str, list[pb.Project]] = {}
    for p in projects:
        groups.setdefault(p.form_key, []).append(p)
    taken: set[str] = {pick(locale, "说明", "Notes").lower()}
    if not groups:
        return [export.table(sheet_title(pick(locale, "项目报备", "Projects"), taken), [])]
    titles = {}
    for form_key in groups:
        latest = max((v for k, v in forms if k == form_key), default=0)
        form = forms.get((form_key, latest))
        titles[form_key] = (form.title if form else "") or form_key
    shared = Counter(t.lower() for t in titles.values())
    return [export.table(sheet_title(key if shared[titles[key].lower()] > 1 else titles[key], taken), members)
            for key, members in groups.items()]


def flat_table(
    projects: Sequence[pb.Project], forms: Mapping[tuple[str, int], pb.Form], directory: Directory, locale: str
) -> Table:
    """Every project in one table (CSV): the columns of every form, with the `表单` column."""
    return _Export(forms, directory, locale).table(pick(locale, "项目报备", "Projects"), list(projects))


@dataclass(frozen=True)
class ExportInfo:
    exported_at: dt.datetime  # aware
    exported_by: str
    filters: Mapping[str, str]


def notes_table(info: ExportInfo, tables: Sequence[Table], locale: str) -> Table:
    """The "说明" sheet: who exported what, when, with which filters."""
    def t(zh: str, en: str) -> str:
        return pick(locale, zh, en)

    rows: list[list[Any]] = [
        [t("导出时间", "Exported at"), info.exported_at.astimezone(LOCAL).replace(tzinfo=None, microsecond=0)],
        [t("导出人", "Exported by"), info.exported_by],
    ]
    given = [(k, v) for k, v in info.filters.items() if v]
    if not given:
        rows.append([t("筛选条件", "Filters"),
                     t("无（导出人可见的全部项目）", "none (every project the exporter may see)")])
    for key, value in given:
        zh, en = FILTER_LABELS.get(key, (key, key))
        shown = status_label(value, locale) if key == "status" else value
        rows.append([t(f"筛选：{zh}", f"Filter: {en}"), shown])
    for table in tables:
        n = len(table.rows)
        rows.append([t(f"工作表 {table.title}", f"Sheet {table.title}"), t(f"{n} 行", f"{n} rows")])
    rows += [
        [t("时区", "Time zone"), t("北京时间（Asia/Shanghai）", "Asia/Shanghai")],
        [t("金额单位", "Amount unit"), t("元（人民币）", "CNY")],
        [t("字段权限", "Field permissions"),
         t("只包含导出人有权查看的字段", "only the fields the exporter may read")],
        [t("重新导入", "Importing back"),
         t("项目编号、部门、表单、创建时间、版本为只读列，导入时忽略",
           "Project code, Department, Form, Created at and Version are read-only and ignored on import")],
    ]
    return Table(t("说明", "Notes"), [Column(t("项目", "Item")), Column(t("内容", "Value"))], rows)
