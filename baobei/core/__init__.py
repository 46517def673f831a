"""Shared plumbing: settings, logging, database engines and migrations, gRPC bootstrap, errors."""
