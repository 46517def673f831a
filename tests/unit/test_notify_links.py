"""Action-link tokens: signed, tamper-evident, expiring."""

from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from baobei.core.errors import Forbidden
from services.notify import links

KEY = "k" * 40


def code(token: str, key: str = KEY, max_age: int = 3600) -> str:
    with pytest.raises(Forbidden) as err:
        links.verify(key, token, max_age_seconds=max_age)
    return err.value.code


def test_sign_and_verify_round_trip() -> None:
    token = links.sign(KEY, "link-1")
    assert links.verify(KEY, token, max_age_seconds=3600).link_id == "link-1"
    assert links.action_url("https://b.example.com/", token) == f"https://b.example.com/a/{token}"
    assert "link-1" not in token or token.count(".") == 2  # payload is signed, not secret


def test_tampered_wrong_key_and_garbage_are_invalid() -> None:
    token = links.sign(KEY, "link-1")
    head, _, sig = token.rpartition(".")
    flipped = head + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
    assert code(flipped) == "link_invalid"
    other = links.sign(KEY, "link-2")
    assert code(other.split(".")[0] + "." + ".".join(token.split(".")[1:])) == "link_invalid"
    assert code(token, key="x" * 40) == "link_invalid"
    assert code("") == "link_invalid" and code("not-a-token") == "link_invalid" and code("a" * 600) == "link_invalid"
    # a genuine signature over a payload without a link id
    assert code(str(links.serializer(KEY).dumps({"x": 1}))) == "link_invalid"
    # signed with another salt (another purpose) → invalid here
    assert code(str(URLSafeTimedSerializer(KEY, salt="other").dumps({"l": "link-1"}))) == "link_invalid"


class _OldSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return super().get_timestamp() - 7200


def test_old_token_is_expired() -> None:
    old = URLSafeTimedSerializer(KEY, salt=links.SALT, signer=_OldSigner).dumps({"l": "link-1"})
    assert code(str(old), max_age=3600) == "link_expired"
    assert links.verify(KEY, str(old), max_age_seconds=3 * 3600).link_id == "link-1"
