"""Error types (``ApplicationError.type``) shared by activities, workflows and the edge: what a
service refused (non-retryable, the edge maps them to HTTP) and the permanent failures of
deliveries and webhooks.
"""

from __future__ import annotations

# Error types raised to update callers (ApplicationError.type); the edge maps them to HTTP.
ERR_VALIDATION = "validation_failed"
ERR_NOT_FOUND = "not_found"
ERR_FORBIDDEN = "forbidden"
ERR_CONFLICT = "conflict"
# Added: a downstream service stayed unreachable while the caller waited (edge: 503).
ERR_UNAVAILABLE = "unavailable"
# Non-retryable ApplicationError type of a permanent delivery failure (gRPC FAILED_PRECONDITION
# with reason delivery_permanent: bad configuration, a 4xx from the receiver, …).
DELIVERY_PERMANENT = "delivery_permanent"
# Non-retryable ApplicationError type of a refused target (SSRF guard, bad URL, no secret, 4xx).
WEBHOOK_REFUSED = "WebhookRefused"
# How update failures look to the caller (temporalio WorkflowUpdateFailedError.cause):
#   ApplicationError(type=ERR_*, message=<service message in the requested locale>,
#                    non_retryable=True, details=(violations,))
# where ``violations`` (details[0], present for every ERR_* raised by the workflow) is a list of
# {"field": "<path>", "message": "..."}; it is non-empty for ERR_VALIDATION and for a forbidden
# field write.
