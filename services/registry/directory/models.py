"""The people-picker search index, on the registry's metadata (one database, one migration chain)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Field

from services.registry.models import Base


class UserSearchRow(Base, table=True):
    """Search keys of one user's name (``directory.keys``), written with the user. ``name`` and
    ``version`` say what they were computed from: a row whose name or keys version differs from
    the user's is recomputed before the next search (that also fills rows of users written
    before this table existed)."""

    __tablename__ = "user_search"

    user_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(default="", max_length=200)
    version: int = Field(default=0)
    sort_key: str = Field(default="", max_length=200, index=True)
    keys: str = Field(default="", sa_type=sa.Text)
