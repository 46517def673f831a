"""Durations of SLAs and escalation levels: natural units (``30s``, ``15m``, ``24h``, ``3d``) and
working time on the mainland calendar (``8wh`` working hours, ``2wd`` working days) with statutory
holidays and make-up workdays from ``chinese-calendar``. Pure functions; no clock is read here.

Working hours are 09:00–12:00 and 13:00–18:00 Asia/Shanghai (8 h a day), on days
``chinese_calendar.is_workday`` says are workdays (so the National Day week is skipped and a make-up
Saturday counts). Outside the calendar's data range we fall back to Monday–Friday."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DURATION_RE = re.compile(r"^(\d+)(s|m|h|d|wh|wd)$")
NATURAL_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Working periods of a workday (local time), in order.
PERIODS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))
WORKDAY_SECONDS = sum((e.hour - s.hour) * 3600 for s, e in PERIODS)
# Safety valve: no SLA should look further than this many days ahead.
MAX_SCAN_DAYS = 3660


def parse_duration(text: str) -> tuple[int, str] | None:
    """``("8wh")`` → ``(8, "wh")``; None when malformed or zero."""
    m = DURATION_RE.match(text.strip())
    if not m or int(m.group(1)) <= 0:
        return None
    return int(m.group(1)), m.group(2)


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # year outside the calendar's data
        return day.weekday() < 5


def add_working_seconds(start: datetime, seconds: float) -> datetime:
    """The instant ``seconds`` of working time after ``start`` (aware datetime; result in the same
    zone as ``start``). Time outside working periods does not count."""
    zone = start.tzinfo
    local = start.astimezone(SHANGHAI)
    remaining = float(seconds)
    day = local.date()
    for _ in range(MAX_SCAN_DAYS):
        if is_workday(day):
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


def add_duration(start: datetime, text: str, fraction: float = 1.0) -> datetime | None:
    """``start`` + ``fraction`` × the duration ``text``; None when ``text`` is not a duration."""
    parsed = parse_duration(text)
    if parsed is None:
        return None
    amount, unit = parsed
    if unit == "wh":
        return add_working_seconds(start, amount * 3600 * fraction)
    if unit == "wd":
        return add_working_seconds(start, amount * WORKDAY_SECONDS * fraction)
    return start + timedelta(seconds=amount * NATURAL_SECONDS[unit] * fraction)


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


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Working time from ``start`` to ``end`` (0 when ``end`` is not later): the inverse of
    ``add_working_seconds``, for lead times measured on the same calendar as the SLAs."""
    if end <= start:
        return 0.0
    local, stop = start.astimezone(SHANGHAI), end.astimezone(SHANGHAI)
    total = 0.0
    day = local.date()
    while day <= stop.date():
        if is_workday(day):
            for p_start, p_end in PERIODS:
                begin = max(datetime.combine(day, p_start, SHANGHAI), local)
                finish = min(datetime.combine(day, p_end, SHANGHAI), stop)
                if finish > begin:
                    total += (finish - begin).total_seconds()
        day += timedelta(days=1)
    return total
