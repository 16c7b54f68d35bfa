"""Cyrus IMAP with its CalDAV module, started for the tests on 127.0.0.1 (Debian packages
cyrus-imapd, cyrus-caldav, sasl2-bin; `dev.py test` installs them when missing).

One `master` process runs the `http` (CalDAV) and `imap` services on free ports, with its
own configuration, databases, spool and SASL password file in a fresh folder. Users live in
that sasldb; their INBOX is created over IMAP by the admin, and Cyrus makes each user's
calendar home (`/dav/calendars/user/<name>/`) on their first CalDAV request.

Cyrus's services refuse to run as root, so a root test run starts `master` as the `cyrus`
system user the package creates and gives it the folder; otherwise everything runs as the
current user.
"""

from __future__ import annotations

import contextlib
import dataclasses
import grp
import imaplib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import PASSWORD, USER, DavServer, _stop, _wait_until_up, free_port

MASTER = Path("/usr/lib/cyrus/bin/master")
SASLPASSWD = "saslpasswd2"
ADMIN = "cyrusadmin"
ADMIN_PASSWORD = "admin-s3cret"  # a throwaway test server's admin, never a real secret
REALM = "localhost"


def _service_account() -> tuple[str, str]:
    """(user, group) the Cyrus services run as."""
    if os.geteuid() == 0:
        return "cyrus", "mail"
    return pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name


@dataclass
class CyrusServer(DavServer):
    """A running Cyrus: DavServer plus what adding users and sharing needs."""

    root: Path = field(default=Path(), repr=False)
    imap_port: int = 0

    def _imap(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        imap.login(ADMIN, ADMIN_PASSWORD)
        return imap

    def add_user(self, name: str, password: str = PASSWORD) -> None:
        """A SASL login and an INBOX (Cyrus makes the calendar home on first use)."""
        _set_password(self.root, name, password)
        imap = self._imap()
        try:
            status, detail = imap.create(f"user/{name}")
            if status != "OK" and b"exists" not in b" ".join(d or b"" for d in detail).lower():
                raise RuntimeError(f"cyrus: cannot create user/{name}: {detail!r}")
        finally:
            imap.logout()

    def share(self, owner: str, calendar: str, grantee: str) -> None:
        """Give `grantee` read/write on `owner`'s calendar (an IMAP ACL on its mailbox)."""
        imap = self._imap()
        try:
            # lrswipkxtecdn: read, write, create/delete objects (no admin 'a').
            mailbox = f"user/{owner}/#calendars/{calendar}"
            status, detail = imap.setacl(mailbox, grantee, "lrswipkxtecdn")
            if status != "OK":
                raise RuntimeError(f"cyrus: SETACL {mailbox}: {detail!r}")
        finally:
            imap.logout()

    def shared_calendar(self, prefix: str = "cal") -> str:
        """A calendar in a fresh owner account, shared read/write with this account; returns
        the owner's URL for it (Cyrus answers this account's requests there with a 301 to
        its own view, /dav/calendars/user/<us>/<owner>.<name>/)."""
        owner = self.account(f"owner{next(_ACCOUNTS)}")
        url = owner.new_calendar(prefix)
        self.share(owner.username or "", url.rstrip("/").rsplit("/", 1)[1], self.username or "")
        return url

    def home_of(self, user: str) -> str:
        return f"/dav/calendars/user/{user}/"

    def account(self, name: str) -> CyrusServer:
        """This server as seen by a new user `name` (same password), home provisioned."""
        self.add_user(name)
        other = dataclasses.replace(
            self, username=name, calendar_home=self.home_of(name), _counter=itertools.count()
        )
        with other.client() as http:
            # Cyrus makes a user's calendar home on their first authenticated request.
            resp = http.request("PROPFIND", other.calendar_home, headers={"Depth": "0"})
        if resp.status_code != 207:
            raise RuntimeError(f"cyrus: calendar home of {name} answered {resp.status_code}")
        return other


def _set_password(root: Path, name: str, password: str) -> None:
    subprocess.run(
        [SASLPASSWD, "-p", "-c", "-f", str(root / "conf" / "sasldb2"), "-u", REALM, name],
        input=password.encode(),
        check=True,
        capture_output=True,
    )
    user, group = _service_account()
    shutil.chown(root / "conf" / "sasldb2", user, group)


def _configs(root: Path, http_port: int, imap_port: int) -> tuple[Path, Path]:
    user, group = _service_account()
    imapd = root / "imapd.conf"
    imapd.write_text(
        f"configdirectory: {root / 'conf'}\n"
        "defaultpartition: default\n"
        f"partition-default: {root / 'spool'}\n"
        f"cyrus_user: {user}\n"
        f"cyrus_group: {group}\n"
        f"admins: {ADMIN}\n"
        f"servername: {REALM}\n"
        # Basic auth over plain HTTP on loopback; a real deployment uses TLS instead.
        "allowplaintext: yes\n"
        "sasl_pwcheck_method: auxprop\n"
        "sasl_auxprop_plugin: sasldb\n"
        f"sasl_sasldb_path: {root / 'conf' / 'sasldb2'}\n"
        "sasl_mech_list: PLAIN LOGIN\n"
        "httpmodules: caldav\n"
        "altnamespace: yes\n"
        "unixhierarchysep: yes\n"
        # No iMIP mail for invitations: there is no MTA, and we send no ATTENDEEs.
        "caldav_allowscheduling: off\n"
    )
    master = root / "cyrus.conf"
    cfg = str(imapd)
    master.write_text(
        "START {\n"
        f'  recover cmd="ctl_cyrusdb -C {cfg} -r"\n'
        "}\n"
        "SERVICES {\n"
        f'  http cmd="httpd -C {cfg}" listen="127.0.0.1:{http_port}" prefork=0\n'
        f'  imap cmd="imapd -C {cfg}" listen="127.0.0.1:{imap_port}" prefork=0\n'
        "}\n"
        "EVENTS {\n"
        "}\n"
    )
    return imapd, master


def start_cyrus(root: Path | None = None) -> CyrusServer:
    """Cyrus in a fresh folder (`root`, or a new one under the system temp dir)."""
    if not MASTER.exists() or shutil.which(SASLPASSWD) is None:
        raise RuntimeError(
            "Cyrus IMAP is not installed (apt: cyrus-imapd cyrus-caldav sasl2-bin); "
            "`python3 dev.py test` installs it"
        )
    # The service user must reach the folder: pytest's own temp tree is private to us.
    root = root or Path(tempfile.mkdtemp(prefix="syncsvc-cyrus-"))
    for sub in ("conf/db", "conf/proc", "conf/lock", "conf/socket", "spool", "run"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    http_port, imap_port = free_port(), free_port()
    imapd, master = _configs(root, http_port, imap_port)
    _set_password(root, ADMIN, ADMIN_PASSWORD)
    _set_password(root, USER, PASSWORD)
    user, group = _service_account()
    for path in [root, *root.rglob("*")]:
        shutil.chown(path, user, group)
    log = root / "run" / "master.log"
    as_root = os.geteuid() == 0
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(MASTER),
                "-C",
                str(imapd),
                "-M",
                str(master),
                "-p",
                str(root / "run" / "master.pid"),
                "-D",  # keep stderr (our log) instead of /dev/null
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            user=user if as_root else None,
            group=group if as_root else None,
        )
    server = CyrusServer(
        kind="cyrus",
        url=f"http://127.0.0.1:{http_port}/",
        calendar_home=f"/dav/calendars/user/{USER}/",
        username=USER,
        password=PASSWORD,
        process=process,
        root=root,
        imap_port=imap_port,
    )
    _wait_until_up(server, log)
    try:
        server = server.account(USER)
    except BaseException:
        stop_cyrus(server)
        raise
    return server


def stop_cyrus(server: CyrusServer) -> None:
    _stop(server)
    with contextlib.suppress(OSError):
        shutil.rmtree(server.root)


_ACCOUNTS = itertools.count()


@pytest.fixture(scope="session")
def cyrus_server() -> Iterator[CyrusServer]:
    server = start_cyrus()
    yield server
    stop_cyrus(server)


@pytest.fixture
def cyrus(cyrus_server: CyrusServer) -> CyrusServer:
    """A fresh account per test on the session's Cyrus: Cyrus allows a UID only once per
    account, and tests reuse UIDs."""
    return cyrus_server.account(f"user{next(_ACCOUNTS)}")
