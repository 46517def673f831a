"""The edge's memo of forms seen with an approval policy: positive answers only, for a bounded
time, forgotten on demand (a policy PUT)."""

from __future__ import annotations

from edge.policy_presence import MAX_FORMS, PolicyPresence


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_seen_form_is_known_until_the_ttl_passes() -> None:
    clock = Clock()
    seen = PolicyPresence(ttl=10.0, clock=clock)
    assert not seen.known("f")
    seen.saw("f")
    assert seen.known("f") and not seen.known("g")
    clock.now += 9.9
    assert seen.known("f")
    clock.now += 0.1
    assert not seen.known("f")
    seen.saw("f")  # asked again and seen again: known again
    assert seen.known("f")


def test_forget_drops_every_form() -> None:
    seen = PolicyPresence(clock=Clock())
    seen.saw("a")
    seen.saw("b")
    seen.forget()
    assert not seen.known("a") and not seen.known("b")


def test_the_memo_is_bounded() -> None:
    seen = PolicyPresence(clock=Clock())
    for i in range(MAX_FORMS + 5):
        seen.saw(f"f{i}")
    assert sum(seen.known(f"f{i}") for i in range(MAX_FORMS + 5)) <= MAX_FORMS
    assert seen.known(f"f{MAX_FORMS + 4}")
