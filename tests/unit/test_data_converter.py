"""The clients' data converter (workflows/contracts/data_converter.py) decodes dataclass contracts
exactly as the SDK's default converter does — same values, same errors — with each class's type
hints resolved once, and encodes exactly as it does (histories stay readable by both)."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from typing import Any

import pytest
from temporalio.converter import DataConverter

from workflows.contracts.approval import OpenedStep, OpenStepInput, PlanChainInput, StepNotice, TaskRef, TimerRef
from workflows.contracts.data_converter import DATA_CONVERTER, DataclassFields
from workflows.contracts.finish import FinishInput
from workflows.contracts.notify import SendInput
from workflows.contracts.registry import ProjectSnapshot, SetProjectStatusInput, StartDeliveryInput

OURS = DATA_CONVERTER.payload_converter
SDK = DataConverter.default.payload_converter

PROJECT = ProjectSnapshot(id="p1", code="BB-2026-000001", name="智慧园区", status="pending_approval",
                          amount="1200000.50", owner_id="u1", region="华东",
                          fields={"phone": "13800138000", "n": [1, 2]},
                          conflict_count=2, conflicts=[{"project_id": "p0", "reason": "客户名称相同"}])
VALUES: list[Any] = [
    PROJECT,
    PlanChainInput(request_id="r", project=PROJECT, submitter_id="u1", open_first=OpenStepInput(
        request_id="o", instance_id="", step_index=0,
        notice=StepNotice(kind="approval_request", project_id="p1", request_id_prefix="x", context={"a": 1}))),
    PlanChainInput(request_id="r", project=PROJECT, submitter_id="u1"),  # the Optional left None
    OpenedStep(index=0, name="经理审批", approvers=["m"], tasks=[TaskRef(id="t", approver_id="m", step_index=0)],
               timers=[TimerRef(index=0, action="remind", at="2026-01-05T09:00:00+08:00", to=["m"])]),
    FinishInput(
        status=SetProjectStatusInput(request_id="s", project_id="p1", status="active", actor_id="m", event="approved"),
        notice=SendInput(request_id="n", recipient_ids=["u1"], kind="project_approved", title="", project_id="p1",
                         context={"comment": "同意"}),
        delivery=StartDeliveryInput(request_id="d", project_id="p1", owner_id="u1", at="2026-01-05T09:00:00+00:00"),
    ),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_encodes_and_decodes_as_the_sdk_does(value: Any) -> None:
    ours, sdk = OURS.to_payloads([value]), SDK.to_payloads([value])
    assert ours == sdk
    assert OURS.from_payloads(sdk, [type(value)]) == SDK.from_payloads(sdk, [type(value)]) == [value]


@dataclass
class Inner:
    when: str
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outer:
    inner: Inner
    maybe: Inner | None = None
    by_key: dict[str, Inner] = field(default_factory=dict)
    derived: int = field(default=0, init=False)


def decode(converter: Any, raw: dict[str, Any], hint: type) -> Any:
    return converter.from_payloads(SDK.to_payloads([raw]), [hint])[0]


def test_nested_optional_mapped_and_non_init_fields_and_unknown_keys() -> None:
    raw = {"inner": {"when": "a", "tags": ["x"]}, "maybe": None, "by_key": {"k": {"when": "b"}}, "derived": 7,
           "unknown": "ignored"}
    ours, sdk = decode(OURS, raw, Outer), decode(SDK, raw, Outer)
    assert ours == sdk and ours.derived == sdk.derived == 7 and ours.by_key["k"] == Inner(when="b")


@pytest.mark.parametrize("raw", [{"maybe": None}, {"inner": "not an object"}, ["not", "a", "dict"]])
def test_refuses_what_the_sdk_refuses(raw: Any) -> None:
    with pytest.raises((TypeError, RuntimeError)) as sdk_err:
        decode(SDK, raw, Outer)
    with pytest.raises((TypeError, RuntimeError)) as our_err:
        decode(OURS, raw, Outer)
    assert type(our_err.value) is type(sdk_err.value)


def test_type_hints_are_resolved_once_per_class(monkeypatch: pytest.MonkeyPatch) -> None:
    fields = DataclassFields()
    calls: list[type] = []
    real = typing.get_type_hints

    def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(cls)
        return real(cls, *args, **kwargs)

    monkeypatch.setattr(typing, "get_type_hints", counting)
    for _ in range(3):
        fields.to_typed_value(Outer, {"inner": {"when": "a"}, "maybe": {"when": "b"}})
    assert calls == [Outer, Inner]
    assert [name for name, _, _ in fields.fields_of(Outer)] == [f.name for f in dataclasses.fields(Outer)]
