"""Which forms the edge has lately seen to have an approval policy.

Every create+submit asked the approval service ``RequirePolicy`` first (one gRPC call per
registration, ≈0.9 ms CPU across the two processes). Policies are never deleted, only replaced by
new versions; a form loses its policy only when an administrator moves the policy to another form.
So a positive answer is kept for ``ttl`` seconds per form, and only a positive one: a form without
a policy is asked again on every submission, so configuring one takes effect at once. A policy
PUT through this edge forgets everything it knew; one moved through another edge replica within
the window is caught by the planning, which holds such a submission (retried, never approved)
until the form has a policy again (services/approval/servicer.py ``PlanChain``)."""

from __future__ import annotations

import time
from collections.abc import Callable

# Seconds a form's policy, once seen, is taken as still there.
TTL_SECONDS = 10.0
# Forms remembered at most (a bound, not a working-set guess: forms are few).
MAX_FORMS = 1024


class PolicyPresence:
    def __init__(self, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl, self._clock = ttl, clock
        self._seen: dict[str, float] = {}  # form key → when its policy was last seen

    def known(self, form_key: str) -> bool:
        seen = self._seen.get(form_key)
        return seen is not None and self._clock() - seen < self._ttl

    def saw(self, form_key: str) -> None:
        if len(self._seen) >= MAX_FORMS:
            self._seen.clear()
        self._seen[form_key] = self._clock()

    def forget(self) -> None:
        self._seen.clear()
