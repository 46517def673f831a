"""Index tables of working days for schedules, over the shared working calendar
(``baobei.workcalendar``: the mainland statutory calendar, plus company overrides when given).

Schedules are computed on *working-day indices*: index 0 is the first working day on or after
``EPOCH``; dates map to indices and back through two precomputed tables, so CPM arithmetic is
integer addition and a 5,000-task plan needs no per-date library calls.
"""

from __future__ import annotations

import bisect
from datetime import date, timedelta
from functools import lru_cache

from baobei.workcalendar import STATUTORY, WorkingCalendar

EPOCH = date(2020, 1, 1)
HORIZON = date(2040, 12, 31)


class WorkCalendar:
    """Index ⇄ date over [EPOCH, HORIZON]; dates outside are clamped to the range."""

    def __init__(self, start: date = EPOCH, end: date = HORIZON, *, working: WorkingCalendar = STATUTORY) -> None:
        self.start, self.end = start, end
        self.days: list[date] = []
        day = start
        while day <= end:
            if working.is_workday(day):
                self.days.append(day)
            day += timedelta(days=1)
        self._ordinals = [d.toordinal() for d in self.days]

    def index_on_or_after(self, day: date) -> int:
        """The index of ``day`` or of the next working day (a task cannot start on a holiday)."""
        return min(bisect.bisect_left(self._ordinals, day.toordinal()), len(self.days) - 1)

    def index_on_or_before(self, day: date) -> int:
        """The index of ``day`` or of the previous working day (a finish on a holiday counts back)."""
        return max(bisect.bisect_right(self._ordinals, day.toordinal()) - 1, 0)

    def day(self, index: int) -> date:
        return self.days[min(max(index, 0), len(self.days) - 1)]

    def working_days(self, first: date, last: date) -> int:
        """Working days in [first, last], both inclusive (0 when last < first)."""
        if last < first:
            return 0
        lo = bisect.bisect_left(self._ordinals, first.toordinal())
        hi = bisect.bisect_right(self._ordinals, last.toordinal())
        return hi - lo

    def add(self, day: date, working_days: int) -> date:
        """The working day ``working_days`` after (or before, negative) ``day``'s working day."""
        return self.day(self.index_on_or_after(day) + working_days)


@lru_cache(maxsize=1)
def calendar() -> WorkCalendar:
    return WorkCalendar()
