"""The cyclic garbage collector of a long-running server process, tuned once it has started.

A service's heap after start-up is 150,000–400,000 objects (protobuf descriptors, SQLAlchemy
mappers, grpc, Temporal) that live as long as the process. With CPython's default thresholds
(700, 10, 10) a young collection runs every few hundred allocations — several per RPC — and
promotes whatever the RPCs in flight hold at that moment; those promotions trigger full
collections that walk the whole heap (100–300 ms each, measured during bench.lifecycle). Freezing
the start-up heap keeps it out of every later collection, and a larger first threshold collects
the young generation ~30 times less often (most of an RPC's objects are freed by reference
counting before then), so far fewer objects are promoted."""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def settle_heap() -> None:
    """Call once start-up is done (servers built, not yet serving): collect what start-up left,
    freeze the rest, raise the young generation's threshold (the older ones keep theirs)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
