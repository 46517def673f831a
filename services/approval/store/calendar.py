"""The company calendar's overrides of the statutory calendar, stored here and read with every
approval instance (its SLAs count on them) and by the tasks service (execution rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from baobei.workcalendar import Override, WorkingCalendar
from services.approval.models import CompanyCalendarDay
from services.approval.store.common import now_utc

log = structlog.get_logger("services.approval.store")


def _year_range(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


DAYS: sa.Table = CompanyCalendarDay.__table__  # type: ignore[attr-defined]
# Read by every opening (its step freezes the calendar: Step.timers) and every forecast: Core
# statements built once, on the session's connection (no ORM query per opening).
_OVERRIDES = sa.select(DAYS.c.day, DAYS.c.kind, DAYS.c.name).order_by(DAYS.c.day)
_OVERRIDES_BETWEEN = (sa.select(DAYS.c.day, DAYS.c.kind, DAYS.c.name)
                      .where(DAYS.c.day >= sa.bindparam("first"), DAYS.c.day <= sa.bindparam("last"))
                      .order_by(DAYS.c.day))


def overrides_of(session: Session, year: int = 0) -> list[Override]:
    conn = session.connection()
    if year:
        first, last = _year_range(year)
        rows = conn.execute(_OVERRIDES_BETWEEN, {"first": first, "last": last})
    else:
        rows = conn.execute(_OVERRIDES)
    return [Override(day=r.day, kind=r.kind, name=r.name) for r in rows]


def calendar_of(session: Session) -> WorkingCalendar:
    return WorkingCalendar(overrides_of(session))


class CalendarStore:
    engine: Engine

    def get_overrides(self, *, year: int = 0) -> list[Override]:
        with Session(self.engine) as session:
            return overrides_of(session, year)

    def put_overrides(self, *, year: int, overrides: Sequence[Override], actor_id: str) -> list[Override]:
        """Replace the overrides (of ``year`` when set; validated: each date falls in it)."""
        now = now_utc()
        with Session(self.engine) as session, session.begin():
            stmt = sa.delete(CompanyCalendarDay)
            if year:
                first, last = _year_range(year)
                stmt = stmt.where(col(CompanyCalendarDay.day) >= first, col(CompanyCalendarDay.day) <= last)
            session.execute(stmt)
            for o in overrides:
                session.add(CompanyCalendarDay(day=o.day, kind=o.kind, name=o.name, updated_by=actor_id,
                                               updated_at=now))
        log.info("approval.calendar_put", year=year, overrides=len(overrides), actor=actor_id)
        return self.get_overrides(year=year)
