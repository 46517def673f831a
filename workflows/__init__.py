"""Temporal workflows, their activities (one class per downstream gRPC service) and the worker."""
