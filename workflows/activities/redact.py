"""Personal notifications carry only what their recipient may read. The registry decides (it owns
the forms' read restrictions): per recipient it answers the project's hidden paths; recipients
with the same hidden set share one notification, whose title, body and template context lose
the hidden values."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from google.protobuf.json_format import MessageToDict
from temporalio.exceptions import ApplicationError

from baobei.registry.v1 import registry_service_pb2 as registry_pb2
from baobei.registry.v1.registry_service_pb2_grpc import RegistryServiceStub
from workflows.activities.errors import call
from workflows.contracts.errors import ERR_NOT_FOUND
from workflows.contracts.notify import SendInput

MASK = "***"
# Template context keys and summary-line labels that show a core value, by its path.
CONTEXT_KEYS = {"amount": "amount", "customer": "customer.name"}
LINE_LABELS = {"amount": ("金额：",), "customer.name": ("客户：",), "region": ("区域：",),
               "business_line": ("业务线：",)}


def _values(p: registry_pb2.Project) -> dict[str, str]:
    """Text of every path of the (unredacted) project a notification might quote."""
    out = {"amount": p.amount, "region": p.region, "business_line": p.business_line,
           "start_date": p.start_date, "end_date": p.end_date}
    out.update({f"customer.{k}": getattr(p.customer, k) for k in ("name", "uscc", "contact", "phone")})
    fields = MessageToDict(p.fields) if p.fields.fields else {}
    for key, value in fields.items():
        items = value if isinstance(value, list) else [value]
        out[f"fields.{key}"] = "\x00".join(str(v) for v in items)
    return out


def _amount_forms(text: str) -> set[str]:
    """Ways a template may print an amount: as stored, normalised, whole yuan, with separators."""
    with contextlib.suppress(InvalidOperation, ValueError):
        d = Decimal(text)
        whole = int(d)
        forms = {format(d.normalize(), "f"), f"{d:,.2f}", f"{whole:,}"}
        if abs(whole) >= 1000:  # short numbers would mask unrelated digits
            forms.add(str(whole))
        return forms
    return set()


def _secrets(hidden: frozenset[str], values: Mapping[str, str]) -> list[str]:
    """The texts to mask, longest first (a value inside another is masked with it)."""
    out: set[str] = set()
    for path in hidden:
        for text in (values.get(path) or "").split("\x00"):
            text = text.strip()
            if len(text) >= 2:
                out.add(text)
                if path == "amount":
                    out.update(_amount_forms(text))
    return sorted((s for s in out if len(s) >= 2), key=len, reverse=True)


def _mask(text: str, secrets: list[str], hidden: frozenset[str]) -> str:
    labels = tuple(lab for path, labs in LINE_LABELS.items() if path in hidden for lab in labs)
    lines = [line for line in text.split("\n") if not (labels and line.startswith(labels))]
    out = "\n".join(lines)
    for s in secrets:
        out = out.replace(s, MASK)
    return out


def _mask_value(value: Any, secrets: list[str], hidden: frozenset[str]) -> Any:
    if isinstance(value, str):
        return _mask(value, secrets, hidden)
    if isinstance(value, list):
        return [_mask_value(v, secrets, hidden) for v in value]
    if isinstance(value, dict):
        return {k: _mask_value(v, secrets, hidden) for k, v in value.items()}
    return value


def redacted(inp: SendInput, recipients: list[str], hidden: frozenset[str], values: Mapping[str, str],
             request_id: str) -> SendInput:
    """``inp`` for ``recipients`` who may not read ``hidden``."""
    keep = set(recipients)
    out = dataclasses.replace(
        inp, request_id=request_id, recipient_ids=list(recipients),
        action_urls={k: v for k, v in inp.action_urls.items() if k in keep},
        action_tasks={k: v for k, v in inp.action_tasks.items() if k in keep},
    )
    if not hidden:
        return out
    secrets = _secrets(hidden, values)
    context = {k: v for k, v in inp.context.items() if CONTEXT_KEYS.get(k) not in hidden}
    return dataclasses.replace(
        out, title=_mask(inp.title, secrets, hidden), body=_mask(inp.body, secrets, hidden),
        context=_mask_value(context, secrets, hidden),
    )


async def per_recipient(
    registry: RegistryServiceStub, inp: SendInput, *, timeout: float, owner_id: str = ""
) -> list[SendInput]:
    """``inp`` split by what its recipients may read of its project (one send when they all may
    read the same; the first keeps the request id, so retries stay idempotent). One registry read
    answers the project and every recipient's hidden paths. ``owner_id``, when the caller has just
    read it from the registry: a notice to the project's owner alone needs no read (the owner
    reads everything of their project, as ``RecipientRedactions`` answers for them)."""
    if not inp.project_id or not inp.recipient_ids:
        return [inp]
    if owner_id and set(inp.recipient_ids) == {owner_id}:
        return [inp]
    recipients = list(dict.fromkeys(inp.recipient_ids))
    try:
        answer = await call(registry.RecipientRedactions, registry_pb2.RecipientRedactionsRequest(
            project_id=inp.project_id, user_ids=recipients), timeout=timeout)
    except ApplicationError as err:
        if err.type != ERR_NOT_FOUND:
            raise
        return [inp]
    hidden_of = {r.user_id: frozenset(r.hidden) for r in answer.recipients}
    groups: dict[frozenset[str], list[str]] = {}
    for rid in recipients:
        groups.setdefault(hidden_of.get(rid, frozenset()), []).append(rid)
    if set(groups) == {frozenset()}:
        return [inp]
    values = _values(answer.project)
    ordered = sorted(groups.items(), key=lambda kv: sorted(kv[0]))
    return [
        redacted(inp, rids, hidden, values, inp.request_id if i == 0 else f"{inp.request_id}:r{i}")
        for i, (hidden, rids) in enumerate(ordered)
    ]
