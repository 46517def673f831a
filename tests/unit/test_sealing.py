"""Sealing of the registry's stored secrets: authenticated, versioned, legacy plain text readable,
rotation through old keys, and a clear error for another key or an altered value."""

from __future__ import annotations

import pytest

from services.registry.sealing import PREFIX, Sealer, SealError

KEY = "k" * 16 + "-current"
OLD = "o" * 16 + "-previous"


def test_round_trip_is_sealed_and_randomised() -> None:
    s = Sealer(KEY)
    a, b = s.seal("s3cret"), s.seal("s3cret")
    assert a.startswith(PREFIX) and "s3cret" not in a
    assert a != b  # a fresh IV each time: equal secrets do not look equal at rest
    assert s.unseal(a) == s.unseal(b) == "s3cret"
    assert s.seal("") == "" and s.unseal("") == ""


def test_legacy_plain_text_passes_through_and_is_not_current() -> None:
    s = Sealer(KEY)
    assert s.unseal("JBSWY3DPEHPK3PXP") == "JBSWY3DPEHPK3PXP"
    assert not s.is_current("JBSWY3DPEHPK3PXP")
    resealed = s.reseal("JBSWY3DPEHPK3PXP")
    assert resealed.startswith(PREFIX) and s.unseal(resealed) == "JBSWY3DPEHPK3PXP"
    assert s.reseal(resealed) == resealed


def test_tampered_value_is_an_error() -> None:
    s = Sealer(KEY)
    sealed = s.seal("s3cret")
    body = sealed[len(PREFIX):]
    flipped = body[:40] + ("A" if body[40] != "A" else "B") + body[41:]
    with pytest.raises(SealError, match="altered"):
        s.unseal(PREFIX + flipped)


def test_wrong_key_is_a_clear_error_and_old_keys_unseal() -> None:
    sealed = Sealer(OLD).seal("s3cret")
    with pytest.raises(SealError, match="BAOBEI_REGISTRY_SECRETS_OLD_KEYS"):
        Sealer(KEY).unseal(sealed)
    rotated = Sealer(KEY, [OLD])
    assert rotated.unseal(sealed) == "s3cret"
    assert not rotated.is_current(sealed)
    assert Sealer(KEY).unseal(rotated.reseal(sealed)) == "s3cret"


def test_short_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="16 characters"):
        Sealer("short")
