"""Activities: one class per downstream gRPC service, each method one RPC.

They are ``async`` and use the ``grpc.aio`` stub handed to the constructor: the worker's event
loop drives the calls (no thread pool to size, a cancelled activity cancels its RPC), and every
call has a deadline (``Settings.rpc_timeout``) and metadata naming the workflow. gRPC failures are
mapped once, in :mod:`workflows.activities.errors`.
"""

from workflows.activities.approval import ApprovalActivities
from workflows.activities.notify import NotifyActivities
from workflows.activities.registry import RegistryActivities
from workflows.activities.reporting import ReportingActivities

__all__ = ["ApprovalActivities", "NotifyActivities", "RegistryActivities", "ReportingActivities"]
