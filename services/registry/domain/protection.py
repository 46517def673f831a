"""Protection periods (保护期) and the waitlist (候补): the window of a protection and who holds a
customer's line. Pure: the store loads the line, these decide, the store writes the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from services.registry.domain.status import Status, is_live
from services.registry.forms import FormSettings


class Protection(StrEnum):
    NONE = ""
    HOLDER = "holder"  # first in line for the customer, protection starts on approval
    PROTECTED = "protected"
    LAPSED = "lapsed"
    WAITLISTED = "waitlisted"  # 候补: behind the holder, promoted in order
    RELEASED = "released"  # left the line (rejected, cancelled, closed) without lapsing


@dataclass
class ProtectionInfo:
    state: Protection = Protection.NONE
    since: datetime | None = None
    until: datetime | None = None
    cap: datetime | None = None
    position: int = 0
    holder_project_id: str = ""
    follow_ups: int = 0


def protection_window(settings: FormSettings, at: datetime) -> tuple[datetime, datetime]:
    """(until, cap) of a protection starting at ``at``."""
    return at + timedelta(days=settings.protection_days), at + timedelta(days=settings.cap_days)


def extended_until(settings: FormSettings, until: datetime, cap: datetime, at: datetime) -> datetime:
    """A follow-up at ``at`` pushes the end to at + extend days (never earlier, never past the cap)."""
    days = settings.protection_extend_days or settings.protection_days
    return min(max(until, at + timedelta(days=days)), cap)


def remind_at(settings: FormSettings, until: datetime) -> datetime | None:
    return until - timedelta(days=settings.protection_remind_days) if settings.protection_remind_days else None


# ---------- the customer's line: one holder, then the waitlist in submission order ----------

IN_LINE = frozenset({Protection.HOLDER, Protection.PROTECTED, Protection.WAITLISTED})
HOLDING = frozenset({Protection.HOLDER, Protection.PROTECTED})


@dataclass(frozen=True)
class Member:
    """A registration as its customer's line sees it (``seq``: its waitlist number)."""

    project_id: str
    status: Status
    state: Protection
    seq: int | None = None


@dataclass(frozen=True)
class Place:
    """Where a submitted registration lands: holder, or waitlisted as number ``seq`` behind ``behind``."""

    state: Protection
    seq: int | None = None
    behind: str = ""


def joins_line(settings: FormSettings | None) -> bool:
    """Only forms with a protection period put their registrations in a customer's line."""
    return settings is not None and bool(settings.protection_days)


def holds(holder: Member | None) -> bool:
    """Whether the line's holder still holds it: live, and holder or protected."""
    return holder is not None and is_live(holder.status) and holder.state in HOLDING


def join(member: Member, holder: Member | None, last_seq: int) -> Place | None:
    """On submit: the first live registration of a customer becomes its holder; later ones queue
    behind it, numbered after ``last_seq`` (the line's last number). None when ``member`` is in
    the line already (a resubmission keeps its place)."""
    if member.state in IN_LINE:
        return None
    if holder is None or holder.project_id == member.project_id or not holds(holder):
        return Place(Protection.HOLDER)
    return Place(Protection.WAITLISTED, seq=last_seq + 1, behind=holder.project_id)


def leaves_line(target: Status) -> bool:
    """A status change takes a registration out of its line when it stops being live or closes."""
    return not is_live(target) or target is Status.CLOSED


def successor(leaving_id: str, waitlist: list[Member]) -> Member | None:
    """Who takes over when the holder ``leaving_id`` leaves: the live waitlisted registration with
    the lowest number (None: the line is empty)."""
    waiting = [m for m in waitlist if m.project_id != leaving_id and m.state is Protection.WAITLISTED
               and m.seq is not None and is_live(m.status)]
    return min(waiting, key=lambda m: (m.seq or 0, m.project_id), default=None)


def promoted_state(status: Status) -> Protection:
    """A promoted registration already approved is protected at once; else it holds the line
    until its approval starts the protection."""
    return Protection.PROTECTED if status is Status.ACTIVE else Protection.HOLDER


def position(member: Member, waitlist: list[Member]) -> int:
    """1-based place of a waitlisted ``member`` among the live waitlisted (0 when not waiting)."""
    if member.state is not Protection.WAITLISTED or member.seq is None:
        return 0
    seq = member.seq
    return 1 + sum(1 for m in waitlist if m.state is Protection.WAITLISTED and m.seq is not None and m.seq < seq
                   and is_live(m.status))


def starts(status: Status, state: Protection) -> bool:
    """Approval starts the protection of the line's holder only (a waitlisted one keeps waiting)."""
    return status is Status.ACTIVE and state is Protection.HOLDER


def lapses(state: Protection, until: datetime | None, at: datetime) -> bool:
    """The timer at ``at`` ends a protection not extended past it (a follow-up moves ``until`` later)."""
    return state is Protection.PROTECTED and until is not None and at >= until


def extensible(state: Protection, until: datetime | None, cap: datetime | None) -> bool:
    """A follow-up extends a running protection only."""
    return state is Protection.PROTECTED and until is not None and cap is not None


def reminder(settings: FormSettings, state: Protection, until: datetime | None) -> datetime | None:
    """When to remind the owner that a running protection is ending (None: no reminder)."""
    return remind_at(settings, until) if until is not None and state is Protection.PROTECTED else None
