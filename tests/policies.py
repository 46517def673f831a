"""Approval policies for tests: every form whose projects a test submits needs one (a form without
a policy cannot be submitted)."""

from __future__ import annotations

from typing import Any


def no_approval_policy(form_key: str) -> dict[str, Any]:
    """The PUT of an explicit no-approval policy for ``form_key`` (its projects are approved on
    submit), as keyword arguments: ``client.put(**no_approval_policy(key))``."""
    return {"url": f"/api/v1/approval-policies/{form_key}",
            "json": {"form_key": form_key, "steps": [], "no_approval": True}}
