"""Notify words Baobei's own notifications from a kind and a context; a sender's own title wins."""

from __future__ import annotations

import pytest

from services.notify import wording
from services.notify.domain import SendCommand

FACTS = {"code": "BB-2026-000123", "name": "临港智慧园区", "customer": "上海某某科技有限公司",
         "amount": "1200000.00", "step": "财务审批", "task_id": "t-42"}


@pytest.mark.parametrize(("kind", "extra", "title"), [
    ("approval_request", {}, "待审批：临港智慧园区"),
    ("approval_request", {"escalated": True}, "审批超时已升级给您：临港智慧园区"),
    ("approval_remind", {}, "审批即将超时，请尽快处理：临港智慧园区"),
    ("approval_remind", {"by_owner": True}, "催办：临港智慧园区"),
    ("approval_cc", {}, "抄送：临港智慧园区"),
    ("approval_withdrawn", {}, "审批已撤回：临港智慧园区"),
    ("project_approved", {}, "项目已通过审批：临港智慧园区"),
    ("project_rejected", {}, "项目未通过审批：临港智慧园区"),
    ("project_returned", {}, "项目被退回，请修改后重新提交：临港智慧园区"),
    ("project_closed", {}, "项目已关闭：临港智慧园区"),
    ("protection_expiring", {}, "保护期即将到期：临港智慧园区"),
    ("protection_lapsed", {}, "保护期已到期：临港智慧园区"),
])
def test_every_kind_has_its_words(kind: str, extra: dict[str, object], title: str) -> None:
    assert wording.title(kind, {**FACTS, **extra}) == title


def test_body_lists_the_facts_in_order_and_the_kind_tail() -> None:
    body = wording.body("protection_expiring", {"code": "BB-1", "name": "园区", "until": "2026-12-31", "comment": ""})
    assert body == "编号：BB-1\n名称：园区\n保护期至：2026-12-31\n记录跟进可延长保护期。"
    full = wording.body("approval_request", FACTS).splitlines()
    assert full == ["编号：BB-2026-000123", "名称：临港智慧园区", "客户：上海某某科技有限公司", "金额：1200000.00 元",
                    "审批环节：财务审批", "审批任务：t-42"]


def test_worded_fills_only_what_the_sender_left_empty() -> None:
    bare = SendCommand(request_id="r", recipient_ids=("u",), kind="project_approved", title="", context=FACTS)
    worded = wording.worded(bare)
    assert worded.title == "项目已通过审批：临港智慧园区" and worded.body.startswith("编号：BB-2026-000123")
    own = SendCommand(request_id="r", recipient_ids=("u",), kind="task_overdue", title="任务逾期：布线",
                      body="负责人：王五")
    assert wording.worded(own) is own
    unknown = SendCommand(request_id="r", recipient_ids=("u",), kind="rule.custom", title="")
    assert wording.worded(unknown).title == ""  # validation then names the field
