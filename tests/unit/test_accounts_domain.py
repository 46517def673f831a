"""Plain rules of local accounts: the password policy (length, breach list, personal words), the
argon2id hash format and rehashing, the lockout back-off, TOTP windows and replays, recovery codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.registry.accounts import domain
from services.registry.accounts.hashing import Hasher

POLICY = domain.AccountPolicy()
T = datetime(2030, 5, 4, 3, 2, 1, tzinfo=UTC)


def problems(password: str, **kw: str) -> list[str]:
    return [v.en for v in domain.password_problems(password, **kw)]


def test_length_without_composition_rules() -> None:
    assert problems("short") == ["the password needs at least 10 characters"]
    assert problems("x" * 129) == ["the password must not exceed 128 characters"]
    assert problems("correcthorsebatterystaple") == []  # lower-case letters only: fine
    assert problems("这是一个很长的中文口令句子") == []  # any script; length in characters
    assert problems("1.5 cups of water") == []
    assert domain.password_problems("short", field="new_password")[0].field == "new_password"
    assert domain.AccountPolicy(min_length=4).min_length == domain.MIN_LENGTH_FLOOR
    assert domain.password_problems("twelve chars", policy=domain.AccountPolicy(min_length=14))


@pytest.mark.parametrize("password", ["password123", "PASSWORD1234", "1234567890", "qwertyuiop", "iloveyou123!",
                                      "woaini1314", "5201314520", "1qaz2wsx3edc", "Ｐａｓｓｗｏｒｄ１２３"])
def test_common_and_breached_passwords_are_refused(password: str) -> None:
    assert "too common" in problems(password)[0]


def test_the_breach_list_ships_with_the_code() -> None:
    common = domain.breach_list()
    assert len(common) > 10_000 and "password" in common
    assert all(len(w) >= domain.MIN_LENGTH_FLOOR and w == w.lower() for w in common)


def test_personal_words_are_refused() -> None:
    who = {"user_id": "zhangsan01", "name": "张三丰", "email": "sanfeng.zhang@example.com"}
    assert "user id, name" in problems("my zhangsan01 pass", **who)[0]
    assert "user id, name" in problems("Sanfeng.Zhang rocks!", **who)[0]
    assert "user id, name" in problems("我是张三丰的粉丝啊啊", **who)[0]
    assert "user id, name" in problems("ZhangSanFeng-2030", **who)[0]  # the name's pinyin
    assert problems("a quiet mountain lake", **who) == []
    assert problems("ab is short but fine here", user_id="ab") == []  # too short to count


def test_argon2id_hash_format_and_rehash() -> None:
    hasher = Hasher()
    h = hasher.hash("correct horse battery")
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.verify(h, "correct horse battery") and not hasher.verify(h, "correct horse batter")
    assert hasher.verify(h, "ｃｏｒｒｅｃｔ horse battery")  # NFKC: full-width input matches
    assert not hasher.verify("", "anything") and not hasher.verify("not a hash", "x")
    assert not hasher.needs_rehash(h)
    stronger = Hasher(time_cost=3, memory_kib=32768, parallelism=2)
    assert stronger.needs_rehash(h) and stronger.verify(h, "correct horse battery")  # old hashes still verify
    assert stronger.hash("x" * 10).startswith("$argon2id$v=19$m=32768,t=3,p=2$")


def test_lockout_backs_off_exponentially_with_a_cap() -> None:
    assert [domain.lock_seconds(n, POLICY) for n in range(1, 10)] == [0, 0, 0, 0, 60, 120, 240, 480, 960]
    assert domain.lock_seconds(100, POLICY) == 3600
    assert domain.retry_after(T + timedelta(seconds=59.2), T) == 60


def test_totp_window_and_replay() -> None:
    secret = domain.new_totp_secret()
    now_code = domain.totp_code(secret, T)
    step = int(T.timestamp()) // 30
    assert domain.totp_step(secret, now_code, T, 0) == step
    assert domain.totp_step(secret, now_code[:3] + " " + now_code[3:], T, 0) == step  # spaces are fine
    assert domain.totp_step(secret, domain.totp_code(secret, T - timedelta(seconds=30)), T, 0) == step - 1
    assert domain.totp_step(secret, domain.totp_code(secret, T + timedelta(seconds=30)), T, 0) == step + 1
    assert domain.totp_step(secret, domain.totp_code(secret, T - timedelta(seconds=60)), T, 0) is None
    assert domain.totp_step(secret, now_code, T, step) is None  # used already
    assert domain.totp_step(secret, "abcdef", T, 0) is None and domain.totp_step("", now_code, T, 0) is None
    assert domain.totp_uri(secret, "a@b.c").startswith("otpauth://totp/")


def test_recovery_codes() -> None:
    codes = domain.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    assert all(domain.is_recovery_code(c) for c in codes) and not domain.is_recovery_code("123456")
    assert domain.recovery_hash(codes[0]) == domain.recovery_hash(codes[0].upper().replace("-", ""))


def test_settings_roles_and_link_lifetimes() -> None:
    assert domain.normalise_roles([" admin", "admin", "finance"]) == ["admin", "finance"]
    assert POLICY.link_ttl(domain.INVITE) == timedelta(hours=72) and POLICY.link_ttl(domain.RESET) == timedelta(hours=1)
    assert domain.totp_required(["sales", "finance"], ["finance"]) and not domain.totp_required(["sales"], [])
