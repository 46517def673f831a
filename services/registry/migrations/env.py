"""Alembic environment of the registry service (see baobei.core.migrations)."""

from baobei.core.migrations import run_env
from services.registry.models import metadata

run_env(metadata)
