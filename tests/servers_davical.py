"""DAViCal (PHP on Apache, data in PostgreSQL), started for the tests on 127.0.0.1 (Debian
packages davical, apache2, libapache2-mod-php, postgresql; `dev.py test` installs them).

A private PostgreSQL cluster (initdb in a fresh folder, listening only on a unix socket in
that folder) gets the DAViCal database from DAViCal's own `create-database.sh`; the test
users are rows in its `usr`/`principal` tables. Apache runs in the foreground with a
generated configuration on a free port and serves the packaged htdocs under `/davical`.

DAViCal reads /etc/davical/config.php, whose stock database line names no host or port, so
the libpq environment (PGHOST, PGPORT) we start Apache with points it at our cluster and the
system configuration stays untouched. PostgreSQL refuses to run as root and Apache's
children need a user: a root test run uses the `postgres` and `www-data` system users.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import PASSWORD, USER, DavServer, _stop, _wait_until_up, free_port

DAVICAL = Path("/usr/share/davical")
APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
ADMIN_PASSWORD = "admin-s3cret"  # a throwaway test server's admin, never a real secret
STARTUP_DEADLINE = 20.0


def _pg_bin() -> Path:
    """The newest installed PostgreSQL server binaries (Debian keeps them off PATH)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise RuntimeError("PostgreSQL is not installed (apt: postgresql)")
    return found[-1].parent


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class DavicalServer(DavServer):
    """A running DAViCal: DavServer plus its database, for adding users."""

    root: Path = field(default=Path(), repr=False)
    postgres: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    pg_env: dict[str, str] = field(default_factory=dict, repr=False)

    def sql(self, statement: str) -> str:
        done = subprocess.run(
            ["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-d", "davical", "-c", statement],
            env=self.pg_env,
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"davical sql failed: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode()

    def add_user(self, name: str, password: str = PASSWORD) -> None:
        """A DAViCal user with a principal (its calendar home is /davical/caldav.php/<name>/).
        The `**` prefix is DAViCal's marker for a plain-text password."""
        self.sql(
            "INSERT INTO usr (active, username, password, fullname, email) VALUES "
            f"(true, '{name}', '**{password}', '{name.title()}', '{name}@example.org');"
            "INSERT INTO principal (type_id, user_no, displayname, default_privileges) "
            f"VALUES (1, currval('usr_user_no_seq'), '{name.title()}', 0::BIT(24));"
        )

    def home_of(self, user: str) -> str:
        return f"/davical/caldav.php/{user}/"


def _run(cmd: list[str], env: dict[str, str], *, user: str | None = None) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, check=False, user=user)
    if done.returncode != 0:
        output = (done.stdout + done.stderr).decode(errors="replace")
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{output}")


def _start_postgres(root: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    pg_bin = _pg_bin()
    data, sock = root / "pg", root / "sock"
    data.mkdir()
    sock.mkdir()
    owner = "postgres" if _as_root() else None
    if owner:
        shutil.chown(data, owner)
        shutil.chown(sock, owner)
    # -N: no fsync; a test cluster that dies with the run needs no durability.
    initdb = [str(pg_bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    _run([*initdb, "-E", "UTF8", "--no-locale", "-N"], env, user=owner)
    log = root / "postgres.log"
    with log.open("wb") as out:
        server = [str(pg_bin / "postgres"), "-D", str(data), "-k", str(sock), "-p", env["PGPORT"]]
        process = subprocess.Popen(
            [*server, "-c", "listen_addresses=", "-c", "fsync=off", "-c", "full_page_writes=off"],
            stdout=out,
            stderr=subprocess.STDOUT,
            user=owner,
        )
    deadline = time.monotonic() + STARTUP_DEADLINE
    ready = [str(pg_bin / "pg_isready"), "-q", "-h", str(sock), "-p", env["PGPORT"]]
    while time.monotonic() < deadline and process.poll() is None:
        if subprocess.run(ready, env=env, check=False).returncode == 0:
            return process
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=0.1)  # returns early if the server dies
    _stop_postgres(process)
    raise RuntimeError(f"postgres did not start; log:\n{log.read_text(errors='replace')}")


def _stop_postgres(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # "fast" shutdown: no waiting for clients
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def _apache_config(root: Path, port: int) -> Path:
    conf = root / "apache"
    conf.mkdir()
    modules = ["mpm_prefork", "authz_core", "mime", "dir", "alias"]
    loads = "".join(f"LoadModule {m}_module {MODULES / f'mod_{m}.so'}\n" for m in modules)
    php = sorted(MODULES.glob("libphp*.so"))
    if not php:
        raise RuntimeError("mod_php is not installed (apt: libapache2-mod-php)")
    user = "User www-data\nGroup www-data\n" if _as_root() else ""
    path = conf / "httpd.conf"
    path.write_text(
        f"ServerRoot {conf}\n"
        "ServerName 127.0.0.1\n"
        f"Listen 127.0.0.1:{port}\n"
        f"PidFile {conf / 'httpd.pid'}\n"
        f"ErrorLog {conf / 'error.log'}\n"
        "LogLevel warn\n"
        f"DefaultRuntimeDir {conf}\n"
        f"Mutex file:{conf} default\n"
        f"{user}"
        f"{loads}"
        f"LoadModule php_module {php[-1]}\n"
        "StartServers 2\nMinSpareServers 1\nMaxSpareServers 4\n"
        "TypesConfig /etc/mime.types\n"
        f"DocumentRoot {conf}\n"
        f"Alias /davical {DAVICAL / 'htdocs'}\n"
        f"<Directory {DAVICAL / 'htdocs'}>\n"
        "  DirectoryIndex index.php\n  AcceptPathInfo On\n  Require all granted\n"
        "</Directory>\n"
        '<FilesMatch "\\.php$">\n  SetHandler application/x-httpd-php\n</FilesMatch>\n'
    )
    return path


def start_davical(root: Path | None = None) -> DavicalServer:
    """DAViCal with its own PostgreSQL cluster, in `root` or a new temp folder."""
    if not (DAVICAL / "dba" / "create-database.sh").exists() or not APACHE.exists():
        raise RuntimeError(
            "DAViCal is not installed (apt: davical apache2 libapache2-mod-php postgresql); "
            "`python3 dev.py test` installs it"
        )
    # Apache's and PostgreSQL's users must reach the folder: pytest's temp tree is private.
    root = root or Path(tempfile.mkdtemp(prefix="syncsvc-davical-"))
    root.chmod(0o755)
    env = {
        # DAViCal's scripts call psql and createdb: the cluster's own, not Debian's wrappers.
        "PATH": f"{_pg_bin()}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PGHOST": str(root / "sock"),
        "PGPORT": str(free_port()),
        "PGUSER": "postgres",
        "PGOPTIONS": "--client-min-messages=warning",
    }
    postgres = _start_postgres(root, env)
    server: DavicalServer | None = None
    try:
        _run(["sh", str(DAVICAL / "dba" / "create-database.sh"), "davical", ADMIN_PASSWORD], env)
        port = free_port()
        config = _apache_config(root, port)
        log = root / "apache" / "console.log"
        with log.open("wb") as out:
            apache = subprocess.Popen(
                [str(APACHE), "-f", str(config), "-DFOREGROUND"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                # Apache signals its whole process group on shutdown: give it its own.
                start_new_session=True,
            )
        server = DavicalServer(
            kind="davical",
            url=f"http://127.0.0.1:{port}/",
            calendar_home=f"/davical/caldav.php/{USER}/",
            username=USER,
            password=PASSWORD,
            process=apache,
            root=root,
            postgres=postgres,
            pg_env=env,
        )
        server.add_user(USER)
        _wait_until_up(server, root / "apache" / "error.log")
    except BaseException:
        if server is not None:
            stop_davical(server)
        else:
            _stop_postgres(postgres)
            shutil.rmtree(root, ignore_errors=True)
        raise
    return server


def stop_davical(server: DavicalServer) -> None:
    _stop(server)
    _stop_postgres(server.postgres)
    shutil.rmtree(server.root, ignore_errors=True)


@pytest.fixture(scope="session")
def davical() -> Iterator[DavicalServer]:
    server = start_davical()
    yield server
    stop_davical(server)
