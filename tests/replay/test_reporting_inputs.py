"""Reporting activity inputs recorded in old histories (payload dicts, project facts flat in the
payload) still deserialize into ReportEventInput and become typed events: an activity scheduled
before the typed events, retried by a new worker, reports the same facts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from workflows.activities.reporting import typed_event
from workflows.contracts import reporting as act

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def recorded_inputs() -> list[act.ReportEventInput]:
    out: list[act.ReportEventInput] = []
    converter = DataConverter.default.payload_converter
    for path in HISTORIES:
        for event in json.loads(path.read_text(encoding="utf-8"))["events"]:
            attrs: dict[str, Any] = event.get("activityTaskScheduledEventAttributes") or {}
            if attrs.get("activityType", {}).get("name") != act.REPORTING_INGEST_EVENT:
                continue
            payloads = [json_format.ParseDict(p, Payload()) for p in attrs["input"]["payloads"]]
            [inp] = converter.from_payloads(payloads, [act.ReportEventInput])
            out.append(inp)
    return out


def truthy(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v}


def test_old_reporting_inputs_become_typed_events() -> None:
    inputs = recorded_inputs()
    kinds = {inp.type for inp in inputs}
    # The recorded histories hold project and approval events, most written before `project` existed.
    assert {"project.created", "project.approved", "approval.step_opened", "approval.decided"} <= kinds
    for inp in inputs:
        if inp.project is not None:  # a newer history (ProjectClosure, issue 16): the project's facts
            event = typed_event(inp)
            kind = event.WhichOneof("kind")
            assert kind == inp.type.replace(".", "_", 1) and event.project_id == inp.project_id
            continue
        if inp.type == "project.reviewed":  # values only (issue 16): typed as they are
            assert typed_event(inp).project_reviewed.outcome == inp.payload["outcome"]
            continue
        # the old shape: project facts flat in the payload
        event = typed_event(inp)
        kind = event.WhichOneof("kind")
        assert kind == inp.type.replace(".", "_", 1)
        values = json_format.MessageToDict(getattr(event, kind), preserving_proto_field_name=True)
        # Nothing the old payload said is lost on the way (empty values aside: "" / 0 are defaults).
        assert truthy(values) == truthy(inp.payload), inp.type
        if inp.type.startswith("project."):
            assert event.project_id and getattr(event, kind).code
