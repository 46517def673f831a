"""The people-picker search index beside ``org_user``: keys computed when users are written
(``index_users``, called by the org upsert in the same transaction) and, as a safety net, before
a search for any user whose keys are missing or stale (``refresh_index``)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from services.registry.directory import keys as name_keys
from services.registry.directory.models import UserSearchRow
from services.registry.models import UserRow

log = structlog.get_logger(__name__)


def index_users(*, session: Session, users: Iterable[tuple[str, str]]) -> None:
    """(Re)compute the search keys of these (id, name) pairs; an upsert, so concurrent writers of
    the same user do not collide."""
    rows = []
    for user_id, name in dict(users).items():
        k = name_keys.name_keys(name)
        rows.append({"user_id": user_id, "name": name, "version": name_keys.KEYS_VERSION, "sort_key": k.sort_key,
                     "keys": k.keys})
    if not rows:
        return
    table = UserSearchRow.__table__  # type: ignore[attr-defined]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(rows)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["user_id"],
        set_={c: stmt.excluded[c] for c in ("name", "version", "sort_key", "keys")},
    ))


def refresh_index(*, session: Session) -> int:
    """Key the users whose keys are missing or stale (written before the index existed, renamed
    by a path that did not key them, or keyed by an older ``KEYS_VERSION``). One anti-join that
    finds nothing in the steady state."""
    stale = session.exec(
        select(UserRow.id, UserRow.name)
        .outerjoin(UserSearchRow, col(UserSearchRow.user_id) == col(UserRow.id))
        .where(sa.or_(col(UserSearchRow.user_id).is_(None), col(UserSearchRow.name) != col(UserRow.name),
                      col(UserSearchRow.version) != name_keys.KEYS_VERSION))
    ).all()
    if stale:
        index_users(session=session, users=[(str(i), str(n)) for i, n in stale])
        log.info("directory.reindexed", users=len(stale))
    return len(stale)
