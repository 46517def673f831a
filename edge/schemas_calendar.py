"""Request and response models of the company calendar (`/api/v1/calendar/overrides`)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from edge.schemas import Model

OVERRIDES_EXAMPLE: dict[str, Any] = {
    "overrides": [
        {"date": "2026-12-31", "kind": "holiday", "name": "公司年会"},
        {"date": "2027-01-09", "kind": "workday", "name": "年会补班"},
    ]
}


class CalendarOverride(Model):
    """One company day on top of the statutory calendar."""

    date: str = Field(description="YYYY-MM-DD (Asia/Shanghai)", examples=["2026-12-31"])
    kind: str = Field(description="`holiday`: a day off even where the statutory calendar works; "
                                  "`workday`: a working day even on a weekend or a statutory holiday")
    name: str = Field(default="", max_length=100, description="What it is (shown in calendars)")


class CalendarOverridesIn(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [OVERRIDES_EXAMPLE]})

    overrides: list[CalendarOverride] = Field(
        max_length=1000, description="Every override (of `year` when that query parameter is given): replaces them"
    )


class CalendarOverridesOut(Model):
    model_config = ConfigDict(json_schema_extra={"examples": [OVERRIDES_EXAMPLE]})

    overrides: list[CalendarOverride] = Field(description="By date")
