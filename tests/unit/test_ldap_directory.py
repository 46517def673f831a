"""The pure parts of the LDAP check: the login escaped into the filter, the stable subject's text
form (AD's binary objectGUID), and the provider settings' rules."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from edge.sso.configs import LdapConfig
from edge.sso.ldap_directory import subject_of, text_of, user_filter


def test_the_login_is_escaped_into_the_filter() -> None:
    assert user_filter("(uid={login})", "zhangsan") == "(uid=zhangsan)"
    assert user_filter("(uid={login})", "*)(uid=*") == r"(uid=\2a\29\28uid=\2a)"
    assert user_filter("(uid={login})", "a\\b\x00") == r"(uid=a\5cb\00)"
    # Braces elsewhere in a template are left alone (no str.format).
    ad = "(&(objectClass=user)(|(sAMAccountName={login})(userPrincipalName={login})))"
    assert user_filter(ad, "li") == "(&(objectClass=user)(|(sAMAccountName=li)(userPrincipalName=li)))"


def test_object_guid_reads_as_ads_text_form() -> None:
    raw = bytes.fromhex("7856341234127856123456789abcdef0")
    assert subject_of("objectGUID", "CN=Li,DC=corp", [raw]) == "12345678-1234-5678-1234-56789abcdef0"
    guid = uuid.uuid4()
    assert subject_of("objectguid", "", [guid.bytes_le]) == str(guid)


def test_other_subjects() -> None:
    assert subject_of("entryUUID", "uid=a", [b"6907a110-826a-1041-887d-794e75e19851"]) == \
        "6907a110-826a-1041-887d-794e75e19851"
    assert subject_of("dn", "UID=A,DC=Baobei", []) == "uid=a,dc=baobei"
    assert subject_of("employeeNumber", "uid=a", []) == ""
    assert text_of([b"\xff\x00"]) == "ff00"
    assert text_of([]) == ""


@pytest.mark.parametrize(("config", "field"), [
    ({"url": "http://dc.corp"}, "url"),
    ({"url": "ldap://a ldaps://b", "start_tls": True}, "start_tls"),
    ({"user_filter": "(uid=fixed)"}, "user_filter"),
    ({"user_filter": "uid={login}"}, "user_filter"),
    ({"subject_attribute": "entry UUID"}, "subject_attribute"),
    ({"timeout_seconds": 0}, "timeout_seconds"),
    ({"match_field": "name"}, "match_field"),
])
def test_settings_refused(config: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        LdapConfig.model_validate({"url": "ldap://dc.corp", "base_dn": "dc=corp", **config})
    assert [e["loc"] for e in err.value.errors()] == [(field,)]


def test_settings_accepted() -> None:
    c = LdapConfig.model_validate({"url": "ldaps://dc1.corp:636 LDAPS://dc2.corp", "base_dn": "dc=corp",
                                   "user_filter": "(&(objectClass=user)(sAMAccountName={login}))",
                                   "subject_attribute": "objectGUID", "timeout_seconds": 3.0})
    assert c.timeout_seconds == 3 and c.match_attribute == "mail" and not c.start_tls
