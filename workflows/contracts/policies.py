"""Every activity timeout and retry policy of the workflows, in one place.

A workflow picks the timeout / retry pair that fits who waits for the step; each value says why it
is what it is. They travel in each activity's schedule command, so a change reaches running
workflows at their next activity (replay compares activity types, not these).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from workflows.contracts.errors import WEBHOOK_REFUSED

# ---- background steps: nobody waits, the step must happen eventually

# One attempt of an ordinary RPC activity: well above Settings.rpc_timeout (the RPC's own deadline),
# so the RPC's deadline fires first and maps to a retryable error.
ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Retry transient failures for as long as it takes (the services are idempotent on request ids),
# backing off to once a minute so an outage is not hammered.
BACKGROUND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
)

# Local activities (workflows/calls.py) retry inside the worker's workflow task while the next
# backoff is shorter than this; a longer one becomes a durable timer, so the task completes and a
# worker that stops (or an outage of minutes) holds no workflow task open.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=2)

# ---- steps an update caller (an HTTP request at the edge) waits for

# Shorter than ACTIVITY_TIMEOUT: the caller's request has its own deadline at the edge.
CALLER_TIMEOUT = timedelta(seconds=15)
# A few quick retries (0.2 s, 0.4 s, 0.8 s, 1.6 s), then the caller is told the service is
# unavailable rather than left hanging.
CALLER_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=2),
    maximum_attempts=5,
)

# ---- lifecycle operations (CRM saga, org handover run the lifecycle's updates)

# The withdraw / decide update waits for the lifecycle's own activities (each up to CALLER_TIMEOUT
# times its retries): give it room.
LIFECYCLE_UPDATE_TIMEOUT = timedelta(minutes=2)
# Org handover: bounded (about 8 minutes in all). A handover that cannot get through fails, and the
# next org sync runs it again (its id is reused only after a failure), instead of a stuck one
# retrying forever under an id that blocks the next departure of that user.
HANDOVER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=20,
)

# ---- execution: webhooks

# Handing a rule's webhook to notify (the receiver's own retries are the delivery workflow's): a
# bounded number of attempts (1 s, 2 s, 4 s … up to 10 min apart, ~1 h in all) while the tasks or
# notify service is away; a rule without a secret is not retried. The fire is recorded either way.
WEBHOOK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=12,
    non_retryable_error_types=[WEBHOOK_REFUSED],
)

# ---- notification delivery (the per-delivery retry comes from DeliveryBatchInput)

# A Deliver attempt talks to an SMTP server / robot / receiver: the service bounds each call by
# delivery_http_timeout; this bounds the whole activity attempt.
DELIVER_TIMEOUT = timedelta(seconds=60)
# Marking a delivery dead must happen: an ordinary RPC, retried for as long as it takes.
DEAD_LETTER_TIMEOUT = ACTIVITY_TIMEOUT
DEAD_LETTER_RETRY = BACKGROUND_RETRY

# ---- audit retention

# One purge deletes a day's oldest events under the chain lock (the activity gives its RPC six
# rpc_timeouts): it can take minutes on a large log.
PURGE_TIMEOUT = timedelta(minutes=5)
# Bounded (about 2 hours in all): a purge that keeps failing fails the run, which the worker starts again
# on its next start; tomorrow's purge covers the same events anyway. Starts slower than the
# background policy: the registry is likely busy when a purge fails.
PURGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=20,
)
