"""The HTTP edge: the public REST API (``/api/v1``) and ``/healthz``.

It authenticates, validates, reads from the services over gRPC, and starts / updates the
project workflows in Temporal. It owns no data: cross-service writes go through workflows."""
