"""What routing conditions see: project facts, the CEL activation and ``when`` evaluation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog

from baobei.core import cel
from services.approval.domain.org import OrgUser

log = structlog.get_logger("services.approval.domain")

def _sample_activation() -> dict[str, Any]:
    return activation(
        ProjectFacts(project_id="", form_key="", name="", amount=Decimal(0)),
        OrgUser(id=""),
    )


def when_problem(expr: str) -> str:
    """Why a CEL condition is unusable ("" if fine): a parse error, or a reference to a
    variable other than ``project`` and ``submitter``."""
    kind, text = cel.problem(expr, _sample_activation())
    if kind == "undeclared":
        return f"undeclared reference {text}"
    return text


@dataclass(frozen=True)
class ProjectFacts:
    project_id: str
    form_key: str
    name: str = ""
    amount: Decimal = Decimal(0)
    region: str = ""
    business_line: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)
    conflict_count: int = 0
    # [{"project_id", "reason"}] of live registrations this one collides with (撞单).
    conflicts: tuple[Mapping[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "form_key": self.form_key,
            "name": self.name,
            "amount": format(self.amount, "f"),
            "region": self.region,
            "business_line": self.business_line,
            "fields": _plain(dict(self.fields)),
            "conflict_count": self.effective_conflict_count,
            "conflicts": [dict(c) for c in self.conflicts],
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> ProjectFacts:
        return ProjectFacts(
            project_id=str(data.get("project_id", "")),
            form_key=str(data.get("form_key", "")),
            name=str(data.get("name", "")),
            amount=parse_amount(str(data.get("amount", "0"))) or Decimal(0),
            region=str(data.get("region", "")),
            business_line=str(data.get("business_line", "")),
            fields=dict(data.get("fields") or {}),
            conflict_count=int(data.get("conflict_count", 0) or 0),
            conflicts=tuple(dict(c) for c in data.get("conflicts") or ()),
        )

    @property
    def effective_conflict_count(self) -> int:
        return max(int(self.conflict_count), len(self.conflicts))

    def content_hash(self) -> str:
        """Changes when what the approvers decide on changes (form content, amount, ...)."""
        data = self.as_dict()
        data.pop("conflicts", None)
        data.pop("conflict_count", None)
        return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


def parse_amount(text: str) -> Decimal | None:
    if not text.strip():
        return Decimal(0)
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _plain(value: Any) -> Any:
    """JSON-ish value with integral floats as ints (protobuf Struct numbers are all doubles)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def activation(facts: ProjectFacts, submitter: OrgUser) -> dict[str, Any]:
    """What a ``when`` sees: ``project`` (amount as double, ``conflicts`` as a list of
    ``{project_id, reason}``, ``conflict_count``) and ``submitter``."""
    project = {
        "id": facts.project_id,
        "form_key": facts.form_key,
        "name": facts.name,
        "amount": float(facts.amount),
        "region": facts.region,
        "business_line": facts.business_line,
        "fields": _plain(dict(facts.fields)),
        "conflict_count": facts.effective_conflict_count,
        "conflicts": [
            {"project_id": str(c.get("project_id", "")), "reason": str(c.get("reason", ""))} for c in facts.conflicts
        ],
    }
    sub = {
        "id": submitter.id,
        "department_id": submitter.department_id,
        "roles": list(submitter.roles),
        "region": submitter.region,
    }
    return {"project": cel.to_cel(project), "submitter": cel.to_cel(sub)}


def evaluate_whens(
    exprs: Sequence[str], act: Mapping[str, Any], *, project_id: str = "", steps: Sequence[str] = ()
) -> list[bool]:
    """``evaluate_when`` for several conditions. They run as one program; when that reports an
    error (one condition failed) or a non-boolean, each is evaluated on its own so only the
    failing ones count as false (and are logged)."""
    names = list(steps) or [""] * len(exprs)
    present = [(i, e) for i, e in enumerate(exprs) if e.strip()]
    out = [True] * len(exprs)
    if not present:
        return out
    results = cel.evaluate_all([e for _, e in present], act)
    if results is not None and all(cel.is_bool(r) for r in results):
        for (i, _), r in zip(present, results, strict=True):
            out[i] = bool(r)
        return out
    for i, e in present:
        out[i] = evaluate_when(e, act, project_id=project_id, step=names[i])
    return out


def evaluate_when(expr: str, act: Mapping[str, Any], *, project_id: str = "", step: str = "") -> bool:
    """True when the condition holds; empty means true. An expression that fails to evaluate or
    yields a non-boolean counts as false and is logged as a warning."""
    if not expr.strip():
        return True
    try:
        result = cel.evaluate(expr, act)
    except Exception as err:  # noqa: BLE001 - bad data must not crash planning
        log.warning("approval.when_failed", project_id=project_id, step=step, when=expr, error=str(err)[:300])
        return False
    if cel.is_bool(result):
        return bool(result)
    log.warning("approval.when_not_bool", project_id=project_id, step=step, when=expr, result=str(result)[:100])
    return False

