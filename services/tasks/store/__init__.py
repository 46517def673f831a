"""Persistence of the tasks service, by sub-domain: keyword-only functions over a SQLModel
session/engine that load rows, let ``domain`` (and ``structure``, ``rules``, ``templates``)
decide, and write the outcome. ``rows`` converts rows and holds the plan lock."""
