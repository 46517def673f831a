"""Persistence of the approval service: policies, instances (loaded into the domain's
dataclasses, transitioned by the domain, persisted here), to-do lists, carbon copies and
delegations. Mutating methods run in one transaction through ``run_once`` (request-id
idempotency); transitions of one instance are serialised by a row lock on it, and task changes
are conditional on the status that was read."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from services.approval.store.calendar import CalendarStore
from services.approval.store.cc_delegation import CcDelegationStore
from services.approval.store.closings import ClosingStore
from services.approval.store.forecasts import ForecastStore
from services.approval.store.instances import InstanceStore, Submission
from services.approval.store.lifecycle import LifecycleStore, Replan, ReturnedChain
from services.approval.store.policies import PolicyStore
from services.approval.store.todos import TodoStore, decode_decided_cursor, encode_decided_cursor

__all__ = [
    "ApprovalStore",
    "Replan",
    "ReturnedChain",
    "Submission",
    "decode_decided_cursor",
    "encode_decided_cursor",
]


class ApprovalStore(PolicyStore, InstanceStore, LifecycleStore, TodoStore, CcDelegationStore, CalendarStore,
                    ClosingStore, ForecastStore):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
