"""Alembic per service: ``services/<name>/migrations`` holds env.py and versions; migrations are
applied at service start (``upgrade``) and by ``baobei migrate <service>``.

New revision after changing models:  python -m baobei.core.migrations revision <service> "message"
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import command, context
from alembic.config import Config

from baobei.core.db import make_engine

ROOT = Path(__file__).resolve().parents[2]


def _config(service: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    return cfg


def upgrade(service: str, url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            cfg = _config(service)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()


def run_env(metadata: sa.MetaData) -> None:
    """Body of every service's migrations/env.py (online mode over a passed connection)."""
    conn = context.config.attributes["connection"]
    context.configure(
        connection=conn,
        target_metadata=metadata,
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def revision(service: str, message: str) -> None:
    """Autogenerate a revision by comparing the models with an empty database at head."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/gen.db")
        upgrade(service, f"sqlite:///{tmp}/gen.db")
        with engine.begin() as conn:
            cfg = _config(service)
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "revision":
        raise SystemExit(__doc__)
    revision(sys.argv[2], sys.argv[3])
