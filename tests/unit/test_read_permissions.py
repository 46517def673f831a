"""Pure parts of field-level read permissions: the form's unreadable paths, the edge's filter of
approval inputs, and the masking of a personal notification for a recipient who may not read."""

from __future__ import annotations

from edge.mapping import readable_inputs
from services.registry.forms import FormDef, FormField, FormSettings, unreadable_paths
from workflows.activities.redact import redacted
from workflows.activities.reporting import typed_event
from workflows.contracts.notify import SendInput
from workflows.contracts.registry import ProjectSnapshot
from workflows.contracts.reporting import ReportEventInput

FORM = FormDef(
    key="f", title="t",
    fields=(FormField(key="a"), FormField(key="margin", read_roles=("finance",))),
    settings=FormSettings(core_fields=(("amount", ("finance",)), ("customer", ("finance", "legal")))),
)


def test_unreadable_paths_follow_roles() -> None:
    customer = {"customer.name", "customer.uscc", "customer.contact", "customer.phone"}
    assert unreadable_paths(FORM, set()) == {"fields.margin", "amount"} | customer
    assert unreadable_paths(FORM, {"legal"}) == {"fields.margin", "amount"}
    assert unreadable_paths(FORM, {"finance"}) == set()
    assert "core_fields" not in FormSettings().as_json()  # old definitions compare equal
    assert FormSettings.from_json(FORM.settings.as_json()) == FORM.settings


def test_approval_inputs_lose_hidden_paths() -> None:
    inputs = {"policy_key": "p", "project": {"amount": "9.00", "region": "华东", "name": "n",
                                             "fields": {"a": 1, "margin": "M"}}, "submitter": {"id": "u"}}
    out = readable_inputs(inputs, {"fields.margin", "amount"})
    assert out == {"policy_key": "p", "project": {"region": "华东", "name": "n", "fields": {"a": 1}},
                   "submitter": {"id": "u"}}
    assert inputs["project"]["fields"]["margin"] == "M"  # the caller's copy is untouched
    assert readable_inputs(inputs, set()) is inputs


def test_notification_masks_withheld_values_for_its_recipients() -> None:
    inp = SendInput(
        request_id="r", recipient_ids=["a", "b"], kind="approval_request", title="待审批：园区 7654321.09",
        body="编号：BB-1\\n名称：园区\\n客户：机密公司\\n金额：7654321.09 元\\n底价 M-1 / 7654321".replace("\\n", "\n"),
        project_id="p", action_tasks={"a": "t1", "b": "t2"},
        context={"code": "BB-1", "customer": "机密公司", "amount": "7654321.09", "comment": "M-1"},
    )
    values = {"amount": "7654321.09", "customer.name": "机密公司", "fields.margin": "M-1"}
    out = redacted(inp, ["a"], frozenset({"amount", "customer.name", "fields.margin"}), values, "r:1")
    text = f"{out.title}\n{out.body}\n{out.context}"
    for secret in ("7654321", "机密公司", "M-1", "金额", "客户："):
        assert secret not in text, secret
    assert out.recipient_ids == ["a"] and out.action_tasks == {"a": "t1"} and out.request_id == "r:1"
    assert out.context == {"code": "BB-1", "comment": "***"}
    same = redacted(inp, ["b"], frozenset(), values, "r")
    assert same.body == inp.body and same.action_tasks == {"b": "t2"}


def test_webhook_payloads_carry_no_form_fields() -> None:
    project = ProjectSnapshot(id="p", code="BB-1", fields={"margin": "M-1"})
    event = typed_event(ReportEventInput("e", "project.approved", "p", "2026-11-02T00:00:00+00:00", project=project))
    assert event.project_approved.code == "BB-1" and "M-1" not in str(event)
