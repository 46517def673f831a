"""Request and response bodies of closing reviews (复盘) and the lessons search."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from edge.schemas import ActionIn, Model, OpenModel

Outcome = Literal["won", "delivered", "lost", "cancelled"]
OUTCOME_LABELS = {"won": "赢单", "delivered": "已交付", "lost": "丢单", "cancelled": "已取消"}


class ReviewIn(Model):
    """What people record in a review; cost vs budget and schedule vs baseline are computed."""

    outcome: Outcome = Field(description="won | delivered | lost | cancelled")
    reason: str = Field(default="", max_length=2000, description="结果原因")
    lessons: str = Field(default="", max_length=20000, description="经验教训（自由文本）")
    tags: list[str] = Field(default_factory=list, max_length=20, description="经验教训标签")
    delay_summary: str = Field(default="", max_length=2000,
                               description="延期原因总结；留空则按任务的延期原因/延期任务自动生成")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for raw in value:
            tag = raw.strip()
            if len(tag) > 40:
                raise ValueError("a tag has at most 40 characters")
            if tag and tag not in out:
                out.append(tag)
        return out


class CloseIn(ActionIn):
    """POST /projects/{id}/close: ``comment`` as before; ``review`` (optional) records the 复盘."""

    review: ReviewIn | None = None


class DelayReasonOut(Model):
    reason: str
    label: str
    tasks: int


class LateTaskOut(Model):
    task_id: str
    name: str
    baseline_finish: str
    finish: str
    slip_days: int
    delay_reason: str


class ReviewOut(OpenModel):
    project_id: str
    code: str
    name: str
    status: str
    outcome: str
    outcome_label: str
    reason: str
    lessons: str
    tags: list[str]
    delay_summary: str
    delay_summary_generated: bool
    budget: str | None = Field(description="预算 = 项目金额（调用者无权查看金额时为 null）")
    cost: str = Field(description="实际成本（已记录成本合计）")
    cost_variance: str | None
    cost_ratio: float | None
    baseline_finish: str | None = Field(description="基线完成日期（任务基线中最晚者）")
    actual_finish: str | None
    slip_days: int | None
    delay_reasons: list[DelayReasonOut]
    late_tasks: list[LateTaskOut]
    tasks: int
    tasks_done: int
    reviewed_at: str
    reviewed_by: str
    closed_at: str | None


class LessonOut(Model):
    project_id: str
    code: str
    name: str
    business_line: str
    outcome: str
    outcome_label: str
    reason: str
    lessons: str
    tags: list[str]
    reviewed_at: str
    reviewed_by: str


class LessonsOut(Model):
    items: list[LessonOut]
    tags: dict[str, int] = Field(description="匹配结果中各标签的复盘数，多者在前")
