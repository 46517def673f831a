"""A throwaway OpenLDAP server for the LDAP sign-in tests: Debian's ``slapd`` (installed here from
Debian when missing) on a loopback port, with its own config and database in one directory.

    python -m cli.tools.slapd install                 # apt-get install slapd ldap-utils if missing
    python -m cli.tools.slapd start --dir D [--port N] # a daemon; prints `export BAOBEI_TEST_LDAP_*=...`
    python -m cli.tools.slapd stop --dir D             # stops the daemon started in D

The tests' fixture (tests/ldap_server.py) runs one in the foreground for the session unless
``BAOBEI_TEST_LDAP_URL`` names a running one (``.ci/run`` starts one for both test passes).

The directory: suffix ``dc=baobei,dc=test``; ``cn=admin`` (rootdn, used by tests to add entries);
the service account ``cn=baobei-bind,ou=services`` (reads everything but passwords); people under
``ou=people`` (inetOrgPerson: uid, mail, mobile; entryUUID is made by slapd). Anyone may search
(so anonymous search can be tried too), passwords only serve binds."""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import ipaddress
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

SBIN = Path("/usr/sbin")
PACKAGES = ("slapd", "ldap-utils")
SUFFIX = "dc=baobei,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
BIND_DN = f"cn=baobei-bind,ou=services,{SUFFIX}"
PEOPLE_DN = f"ou=people,{SUFFIX}"


class SlapdUnavailable(RuntimeError):
    """slapd is not installed and cannot be installed here (not root, no passwordless sudo, no apt)."""


def binary(name: str) -> str | None:
    """``slapd`` / ``slapadd``: on PATH, else in /usr/sbin (not on a normal user's PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidate = SBIN / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def installed() -> bool:
    return all(binary(b) for b in ("slapd", "slapadd"))


def _privileged() -> list[str]:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    raise SlapdUnavailable(
        "slapd is not installed and this user can neither install packages (not root) nor use sudo without a "
        "password. Install it once with `sudo .venv/bin/python -m cli.tools.slapd install`, or point the "
        "tests at a running server with BAOBEI_TEST_LDAP_URL (see README, LDAP / Active Directory)."
    )


def install() -> None:
    """Install slapd and ldap-utils from Debian without questions and without starting the system
    slapd: debconf is told to make no configuration, and a policy-rc.d forbids starting services
    while the packages are unpacked (removed afterwards if it was ours)."""
    if installed():
        return
    if not shutil.which("apt-get"):
        raise SlapdUnavailable("slapd is not installed and there is no apt-get here: install OpenLDAP's slapd "
                               "by other means or set BAOBEI_TEST_LDAP_URL")
    sudo = _privileged()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("slapd: installing slapd and ldap-utils from Debian", file=sys.stderr)
    # apt's chatter goes to stderr: `start` prints the environment on stdout for the caller's eval.
    subprocess.run([*sudo, "debconf-set-selections"], input=b"slapd slapd/no_configuration boolean true\n",
                   check=True, env=env, stdout=sys.stderr)
    policy = Path("/usr/sbin/policy-rc.d")
    ours = not policy.exists()
    if ours:
        subprocess.run([*sudo, "sh", "-c", f"printf '#!/bin/sh\\nexit 101\\n' > {policy} && chmod 755 {policy}"],
                       check=True, stdout=sys.stderr)
    try:
        apt = [*sudo, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=300"]
        cmd = [*apt, "install", "-y", "-q", "--no-install-recommends", *PACKAGES]
        if subprocess.run(cmd, env=env, stdout=sys.stderr).returncode != 0:
            # Package lists may be missing (fresh image) or stale: refresh once and retry.
            subprocess.run([*apt, "update", "-q"], env=env, check=True, stdout=sys.stderr)
            subprocess.run(cmd, env=env, check=True, stdout=sys.stderr)
    except subprocess.CalledProcessError as err:
        raise SlapdUnavailable(f"installing {' '.join(PACKAGES)} failed ({err}); see apt-get's output above") from err
    finally:
        if ours:
            subprocess.run([*sudo, "rm", "-f", str(policy)], check=False)
    if not installed():
        raise SlapdUnavailable("apt-get finished but slapd / slapadd are still missing")


def ssha(password: str) -> str:
    """A salted SHA-1 userPassword value ({SSHA}), as slappasswd makes."""
    salt = secrets.token_bytes(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


@dataclass(frozen=True)
class Directory:
    """How to reach one running test directory (what the tests read from BAOBEI_TEST_LDAP_*)."""

    url: str
    base_dn: str
    admin_dn: str
    admin_password: str
    bind_dn: str
    bind_password: str
    ldaps_url: str = ""  # the same server over TLS, its certificate issued by the CA in ca_file
    ca_file: str = ""

    ENV: ClassVar[dict[str, str]] = {
        "url": "URL", "base_dn": "BASE_DN", "admin_dn": "ADMIN_DN", "admin_password": "ADMIN_PASSWORD",
        "bind_dn": "BIND_DN", "bind_password": "BIND_PASSWORD", "ldaps_url": "LDAPS_URL", "ca_file": "CA_FILE"}

    def env(self) -> dict[str, str]:
        return {f"BAOBEI_TEST_LDAP_{suffix}": getattr(self, name) for name, suffix in self.ENV.items()}

    @classmethod
    def from_env(cls, environ: dict[str, str] | os._Environ[str]) -> Directory | None:
        """The directory named by BAOBEI_TEST_LDAP_URL (the rest default to this module's layout)."""
        url = environ.get("BAOBEI_TEST_LDAP_URL", "")
        if not url:
            return None
        defaults = {"base_dn": SUFFIX, "admin_dn": ADMIN_DN, "bind_dn": BIND_DN}
        values = {name: environ.get(f"BAOBEI_TEST_LDAP_{suffix}", defaults.get(name, ""))
                  for name, suffix in cls.ENV.items() if name != "url"}
        return cls(url=url, **values)


def _config(root: Path, admin_password: str) -> str:
    return f"""\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {root}/slapd.pid
argsfile {root}/slapd.args
loglevel none
TLSCACertificateFile {root}/ca.pem
TLSCertificateFile {root}/server.pem
TLSCertificateKeyFile {root}/server.key

database mdb
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ssha(admin_password)}
directory {root}/db
dbnosync
index objectClass,uid,mail eq
# Passwords only serve binds; everything else is readable (anonymous search can be tried too).
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


def _seed(bind_password: str) -> str:
    people = [("alice", "Alice Zhang", "alice@baobei.test", "13800000001"),
              ("bob", "Bob Li", "bob@baobei.test", "13800000002")]
    ldif = [
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Baobei Test\ndc: baobei\n",
        f"dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n",
        f"dn: {PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people\n",
        f"dn: {BIND_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: baobei-bind\n"
        f"userPassword: {ssha(bind_password)}\n",
    ]
    for uid, name, mail, mobile in people:
        ldif.append(f"dn: uid={uid},{PEOPLE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\n"
                    f"sn: {name.split()[-1]}\nmail: {mail}\nmobile: {mobile}\nuserPassword: {ssha(uid + '-pw')}\n")
    return "\n".join(ldif)


def _certificates(root: Path) -> None:
    """A CA of its own and a server certificate for 127.0.0.1 issued by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    # Valid from yesterday for 20 years: a test run with its clock moved ahead (.ci/clock-ahead)
    # against a server started on the real clock still finds it valid.
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=20 * 366)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Baobei test LDAP CA")).issuer_name(name("Baobei test LDAP CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(start).not_valid_after(end)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (root / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (root / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "server.key").write_bytes(pem_key(key))
    (root / "server.key").chmod(0o600)


def prepare(root: Path) -> Directory:
    """Write the config and load the seed entries (slapadd, offline) under ``root``; a URL is
    filled in by :func:`start`."""
    slapadd = binary("slapadd")
    if not slapadd:
        raise SlapdUnavailable("slapadd not found: run `python -m cli.tools.slapd install`")
    root.mkdir(parents=True, exist_ok=True)
    (root / "db").mkdir(exist_ok=True)
    admin_password, bind_password = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    _certificates(root)
    (root / "slapd.conf").write_text(_config(root, admin_password))
    (root / "seed.ldif").write_text(_seed(bind_password))
    done = subprocess.run([slapadd, "-f", str(root / "slapd.conf"), "-l", str(root / "seed.ldif")],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"slapadd failed ({done.returncode}): {done.stderr.strip()}")
    return Directory(url="", base_dn=SUFFIX, admin_dn=ADMIN_DN, admin_password=admin_password,
                     bind_dn=BIND_DN, bind_password=bind_password, ca_file=str(root / "ca.pem"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_open(port: int, proc: subprocess.Popen[bytes] | None, root: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"slapd exited with {proc.returncode}: {_log(root)}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"slapd did not open port {port} within {timeout:.0f}s: {_log(root)}")


def _log(root: Path) -> str:
    path = root / "slapd.log"
    return path.read_text(errors="replace")[-2000:].strip() if path.exists() else ""


def _command(root: Path, port: int, tls_port: int, *, foreground: bool) -> list[str]:
    slapd = binary("slapd")
    if not slapd:
        raise SlapdUnavailable("slapd not found: run `python -m cli.tools.slapd install`")
    # -d 0: stay in the foreground (a child the caller owns), logging nothing but failures.
    return [slapd, "-f", str(root / "slapd.conf"), "-h", f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/",
            *(["-d", "0"] if foreground else [])]


def start(root: Path, port: int = 0, *, foreground: bool = True,
          timeout: float = 20.0) -> tuple[Directory, subprocess.Popen[bytes] | None]:
    """Install slapd if needed, prepare ``root`` and start the server. In the foreground the
    process is returned (the caller terminates it); otherwise slapd daemonises (pid file in root)."""
    install()
    directory = prepare(root)
    port, tls_port = port or free_port(), free_port()
    log = (root / "slapd.log").open("wb")
    cmd = _command(root, port, tls_port, foreground=foreground)
    if foreground:
        proc: subprocess.Popen[bytes] | None = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    else:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if done.returncode != 0:
            raise RuntimeError(f"slapd exited with {done.returncode}: {_log(root)}")
        proc = None
    log.close()
    try:
        for p in (port, tls_port):
            _wait_open(p, proc, root, timeout)
    except BaseException:
        if proc is not None:
            stop_process(proc)
        else:
            stop(root)
        raise
    urls = {"url": f"ldap://127.0.0.1:{port}", "ldaps_url": f"ldaps://127.0.0.1:{tls_port}"}
    return Directory(**{**directory.__dict__, **urls}), proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def stop(root: Path) -> bool:
    """Stop the daemon started in ``root`` (by the pid in its pid file)."""
    pidfile = root / "slapd.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().split()[0])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.tools.slapd", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("install", help="install slapd and ldap-utils from Debian when missing")
    start_p = sub.add_parser("start", help="start a throwaway slapd (daemon) and print the env for the tests")
    start_p.add_argument("--dir", required=True, type=Path, help="its config, database, pid file and log")
    start_p.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    stop_p = sub.add_parser("stop", help="stop the slapd started with --dir")
    stop_p.add_argument("--dir", required=True, type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            install()
        elif args.command == "start":
            directory, _ = start(args.dir.resolve(), args.port, foreground=False)
            for name, value in directory.env().items():
                print(f"export {name}={shlex.quote(value)}")
        else:
            stop(args.dir.resolve())
    except SlapdUnavailable as err:
        print(f"slapd: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
