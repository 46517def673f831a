"""The working calendar shared by approval SLAs and execution rules: the mainland statutory
calendar (``chinese-calendar``: public holidays and the adjusted working weekends) with the
company's own overrides on top (company holidays, extra workdays). Pure code, no clock and no I/O:
the owning service (approval) stores the overrides and hands a ``WorkingCalendar`` to whoever
computes a due time.

Two ways of counting working time:
- SLA units (``8wh`` working hours, ``2wd`` working days) count office hours, 09:00–12:00 and
  13:00–18:00 Asia/Shanghai, 8 h a day (``add_duration``).
- Execution rules (``overdue 24h``) count the whole hours of working days (``shift_working_hours``):
  due dates are whole days, so "24 h past due" on a weekday is the same instant as before, and
  over a weekend or a holiday the days off do not count.
Outside the statutory calendar's data range we fall back to Monday–Friday."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar

from baobei.core.errors import FieldViolation, ValidationFailed

SHANGHAI = ZoneInfo("Asia/Shanghai")
DURATION_RE = re.compile(r"^(\d+)(s|m|h|d|wh|wd)$")
NATURAL_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Working periods of a workday (local time), in order.
PERIODS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
WORKDAY_SECONDS = sum((e.hour - s.hour) * 3600 for s, e in PERIODS)
# Safety valve: no SLA or rule should look further than this many days ahead.
MAX_SCAN_DAYS = 3660
KINDS = ("holiday", "workday")
MAX_OVERRIDES = 1000
MAX_NAME = 100
# How far ahead a frozen calendar (``snapshot``) reaches: longer than any sensible SLA.
SNAPSHOT_DAYS = 400


def statutory_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # year outside the calendar's data
        return day.weekday() < 5


@dataclass(frozen=True)
class Override:
    """One company day: ``holiday`` (a day off even if statutory says work) or ``workday``."""

    day: date
    kind: str
    name: str = ""


class WorkingCalendar:
    """Statutory calendar + company overrides; immutable once built."""

    def __init__(self, overrides: Iterable[Override] = ()) -> None:
        self.overrides: tuple[Override, ...] = tuple(sorted(overrides, key=lambda o: o.day))
        self._by_day: dict[date, bool] = {o.day: o.kind == "workday" for o in self.overrides}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WorkingCalendar) and self.overrides == other.overrides

    def __hash__(self) -> int:
        return hash(self.overrides)

    def snapshot(self, since: date, days: int = SNAPSHOT_DAYS) -> list[list[str]]:
        """The overrides in [since, since + days) as JSON (``[["2026-12-31", "holiday"], …]``):
        what a computation started on ``since`` needs to be repeated later unchanged."""
        until = since + timedelta(days=days)
        return [[o.day.isoformat(), o.kind] for o in self.overrides if since <= o.day < until]

    @classmethod
    def from_snapshot(cls, items: Iterable[Sequence[str]]) -> WorkingCalendar:
        return cls(Override(day=date.fromisoformat(d), kind=k) for d, k in items)

    def is_workday(self, day: date) -> bool:
        override = self._by_day.get(day)
        return statutory_workday(day) if override is None else override

    # ------------------------------------------------------------ office hours (SLAs)

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The instant ``seconds`` of office time after ``start`` (aware datetime; result in the
        same zone as ``start``). Time outside working periods does not count."""
        zone = start.tzinfo
        local = start.astimezone(SHANGHAI)
        remaining = float(seconds)
        day = local.date()
        for _ in range(MAX_SCAN_DAYS):
            if self.is_workday(day):
                for p_start, p_end in PERIODS:
                    begin = datetime.combine(day, p_start, SHANGHAI)
                    end = datetime.combine(day, p_end, SHANGHAI)
                    if local >= end:
                        continue
                    begin = max(begin, local)
                    available = (end - begin).total_seconds()
                    if remaining <= available:
                        return (begin + timedelta(seconds=remaining)).astimezone(zone)
                    remaining -= available
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), SHANGHAI)
        raise ValueError("working-time duration too long")

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Office time from ``start`` to ``end`` (0 when ``end`` is not later): the inverse of
        ``add_working_seconds``, for lead times measured as the SLAs measure them."""
        if end <= start:
            return 0.0
        local, stop = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
        total = 0.0
        day = local.date()
        while day <= stop.date():
            if self.is_workday(day):
                for p_start, p_end in PERIODS:
                    begin = max(datetime.combine(day, p_start, SHANGHAI), local)
                    finish = min(datetime.combine(day, p_end, SHANGHAI), stop)
                    if finish > begin:
                        total += (finish - begin).total_seconds()
            day += timedelta(days=1)
        return total

    def add_duration(self, start: datetime, text: str, fraction: float = 1.0) -> datetime | None:
        """``start`` + ``fraction`` × the duration ``text``; None when ``text`` is not a duration."""
        parsed = parse_duration(text)
        if parsed is None:
            return None
        amount, unit = parsed
        if unit == "wh":
            return self.add_working_seconds(start, amount * 3600 * fraction)
        if unit == "wd":
            return self.add_working_seconds(start, amount * WORKDAY_SECONDS * fraction)
        return start + timedelta(seconds=amount * NATURAL_SECONDS[unit] * fraction)

    # ------------------------------------------------------------ whole working days (rules)

    def shift_working_hours(self, start: datetime, delta: timedelta) -> datetime:
        """``start`` moved by ``delta`` counting only the hours of working days (forward for a
        positive delta, backward for a negative one). An instant that lands on the boundary of a
        day off moves to the working side: forward, the start of the next working day; backward,
        the start of the working day it counted last."""
        zone = start.tzinfo
        local = start.astimezone(SHANGHAI)
        remaining = abs(delta)
        forward = delta >= timedelta(0)
        day = local.date()
        for _ in range(MAX_SCAN_DAYS):
            day_start = datetime.combine(day, time(0), SHANGHAI)
            day_end = datetime.combine(day + timedelta(days=1), time(0), SHANGHAI)
            if self.is_workday(day):
                if forward:
                    available = day_end - max(local, day_start)
                    if remaining < available:  # exactly a day's end rolls on to the next working day
                        return (max(local, day_start) + remaining).astimezone(zone)
                else:
                    available = min(local, day_end) - day_start
                    if remaining <= available:
                        return (min(local, day_end) - remaining).astimezone(zone)
                remaining -= available
            day += timedelta(days=1 if forward else -1)
        raise ValueError("working-time duration too long")


STATUTORY = WorkingCalendar()


def parse_duration(text: str) -> tuple[int, str] | None:
    """``("8wh")`` → ``(8, "wh")``; None when malformed or zero."""
    m = DURATION_RE.match(text.strip())
    if not m or int(m.group(1)) <= 0:
        return None
    return int(m.group(1)), m.group(2)


def nominal_seconds(text: str) -> int:
    """A rough length in seconds (working hours counted as hours): for display and ordering only."""
    parsed = parse_duration(text)
    if parsed is None:
        return 0
    amount, unit = parsed
    if unit == "wh":
        return amount * 3600
    if unit == "wd":
        return amount * WORKDAY_SECONDS
    return amount * NATURAL_SECONDS[unit]


def validate_overrides(
    items: Sequence[Mapping[str, Any]], *, year: int = 0, prefix: str = "overrides"
) -> list[Override]:
    """Overrides from their JSON form ``{"date": "YYYY-MM-DD", "kind": "holiday"|"workday",
    "name"?}`` (all in ``year`` when it is set), by date; every problem is reported with its field
    path (``overrides[3].date``)."""
    v: list[FieldViolation] = []
    out: list[Override] = []
    seen: dict[date, int] = {}
    if len(items) > MAX_OVERRIDES:
        raise ValidationFailed([FieldViolation(prefix, f"最多 {MAX_OVERRIDES} 条", f"at most {MAX_OVERRIDES} entries")])
    for i, item in enumerate(items):
        path = f"{prefix}[{i}]"
        raw_day, kind, name = item.get("date"), item.get("kind"), item.get("name") or ""
        day: date | None = None
        if not isinstance(raw_day, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw_day):
            v.append(FieldViolation(f"{path}.date", "日期格式须为 YYYY-MM-DD", "date must be YYYY-MM-DD"))
        else:
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                v.append(FieldViolation(f"{path}.date", "日期不存在", "not a calendar date"))
        if day is not None and year and day.year != year:
            v.append(FieldViolation(f"{path}.date", f"日期不在 {year} 年内", f"date is not in {year}"))
            day = None
        if day is not None and day in seen:
            v.append(FieldViolation(f"{path}.date", f"日期与第 {seen[day] + 1} 条重复",
                                    f"same date as entry {seen[day]}"))
            day = None
        if kind not in KINDS:
            v.append(FieldViolation(f"{path}.kind", "类型须为 holiday（放假）或 workday（上班）",
                                    "kind must be holiday or workday"))
        if not isinstance(name, str) or len(name) > MAX_NAME:
            v.append(FieldViolation(f"{path}.name", f"名称最多 {MAX_NAME} 字",
                                    f"name: text of at most {MAX_NAME} characters"))
        if day is not None:
            seen[day] = i
            if kind in KINDS and isinstance(name, str):
                out.append(Override(day=day, kind=str(kind), name=name.strip()))
    if v:
        raise ValidationFailed(v)
    return sorted(out, key=lambda o: o.day)
