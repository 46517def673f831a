"""The LDAP directory the LDAP sign-in tests talk to: the one named by ``BAOBEI_TEST_LDAP_URL``
(``.ci/run`` starts one for both test passes with ``python -m cli.tools.slapd start``), else a
slapd of the test session's own, started (and installed from Debian when missing) by
cli/tools/slapd.py.

If slapd cannot be had, the tests FAIL with the reason — a missing server must never look like a
pass. ``BAOBEI_TEST_LDAP=skip`` turns that into an explicit skip, for a machine where the developer
knows slapd cannot be installed (never set in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ldap3
import pytest
from ldap3.utils.dn import escape_rdn

from cli.tools import slapd
from cli.tools.slapd import Directory


def directory(root: Path) -> Iterator[Directory]:
    """Yield a running directory for the session; stop it afterwards if it is ours."""
    given = Directory.from_env(os.environ)
    if given is not None:
        yield given
        return
    try:
        found, proc = slapd.start(root)
    except slapd.SlapdUnavailable as err:
        if os.environ.get("BAOBEI_TEST_LDAP", "").lower() == "skip":
            pytest.skip(f"BAOBEI_TEST_LDAP=skip and no slapd here: {err}")
        pytest.fail(f"the LDAP sign-in tests need slapd: {err}", pytrace=False)
    try:
        yield found
    finally:
        if proc is not None:
            slapd.stop_process(proc)


@dataclass(frozen=True)
class Person:
    uid: str
    dn: str
    password: str
    mail: str
    entry_uuid: str


def admin_connection(d: Directory) -> ldap3.Connection:
    conn = ldap3.Connection(ldap3.Server(d.url, get_info=ldap3.NONE), d.admin_dn, d.admin_password,
                            raise_exceptions=True, receive_timeout=10)
    conn.bind()
    return conn


def add_person(d: Directory, *, uid: str = "", mail: str = "", mobile: str = "", password: str = "") -> Person:
    """A new inetOrgPerson under ou=people (unique by default: the directory may be shared)."""
    uid = uid or f"u-{uuid.uuid4().hex[:10]}"
    password = password or f"pw-{uuid.uuid4().hex[:12]}"
    mail = mail or f"{uuid.uuid4().hex[:10]}@ldap.baobei.test"
    dn = f"uid={escape_rdn(uid)},{slapd.PEOPLE_DN.replace(slapd.SUFFIX, d.base_dn)}"
    attributes = {"uid": uid, "cn": uid, "sn": uid, "mail": mail, "userPassword": password,
                  **({"mobile": mobile} if mobile else {})}
    conn = admin_connection(d)
    try:
        conn.add(dn, ["inetOrgPerson"], attributes)
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["entryUUID"])
        entry_uuid = str(conn.entries[0].entryUUID.value)
    finally:
        conn.unbind()
    return Person(uid=uid, dn=dn, password=password, mail=mail, entry_uuid=entry_uuid)


def modify(d: Directory, dn: str, **values: str) -> None:
    conn = admin_connection(d)
    try:
        conn.modify(dn, {name: [(ldap3.MODIFY_REPLACE, [value])] for name, value in values.items()})
    finally:
        conn.unbind()
