"""A throwaway PostgreSQL cluster for tests: initdb into a temp dir, run, delete.

The machine has PostgreSQL binaries but no running server, and CI may run as root,
which PostgreSQL refuses; so as root the cluster belongs to the `postgres` OS user.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from tests.support.procs import free_port

PG_ROOT = Path("/usr/lib/postgresql")
SUPERUSER = "rexian"  # fixed role name, so URLs don't depend on who runs the tests
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# Durability off: a test cluster lives for seconds and is deleted afterwards.
_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "max_wal_size": "1GB",
    "autovacuum": "off",
    "logging_collector": "off",
}


def find_pg_bin() -> Path:
    """Newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    candidates: list[tuple[float, Path]] = []
    if PG_ROOT.is_dir():
        for d in PG_ROOT.iterdir():
            bin_dir = d / "bin"
            try:
                version = float(d.name)
            except ValueError:
                continue
            if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
                candidates.append((version, bin_dir))
    if not candidates:
        raise RuntimeError(
            f"no PostgreSQL server binaries under {PG_ROOT}/<version>/bin "
            "(install e.g. Debian package postgresql-15)"
        )
    return max(candidates)[1]


class ThrowawayPostgres:
    """Context manager: a private PostgreSQL cluster on 127.0.0.1:<free port>.

    `.url`/`.env()` point at database `dbname`; `create_database()` gives each test its
    own database in the same cluster (cheap isolation without another initdb).
    """

    def __init__(self, dbname: str = "rexian_test", start_timeout: float = 30.0) -> None:
        self.dbname = _check_name(dbname)
        self.start_timeout = start_timeout
        self.bin_dir = find_pg_bin()
        self.host = "127.0.0.1"
        self.port = 0
        self.user = SUPERUSER
        self.startup_seconds = 0.0
        self._tmp: Path | None = None
        self._running = False
        self._as_postgres = os.geteuid() == 0

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> ThrowawayPostgres:
        began = time.monotonic()
        self._tmp = Path(tempfile.mkdtemp(prefix="rexian-pg-", dir=self._temp_base()))
        try:
            if self._as_postgres:
                self._give_to_postgres(self._tmp)
            self._run(
                "initdb",
                "-D", str(self.data_dir),
                "--username", self.user,
                "--auth", "trust",
                "--encoding", "UTF8",
                "--locale", "C",  # C.UTF-8 collation rules are not needed; C is fastest
                "--no-sync",
                "--no-instructions",
            )  # fmt: skip
            self.socket_dir.mkdir()
            if self._as_postgres:
                self._give_to_postgres(self.socket_dir)
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write("\n# rexian test settings\n")
                for key, value in _SETTINGS.items():
                    conf.write(f"{key} = {value}\n")
                conf.write(f"unix_socket_directories = '{self.socket_dir}'\n")
            self._start_server()
            self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _start_server(self) -> None:
        # The free port can be taken between probe and bind; retry with a fresh one.
        for attempt in range(3):
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl", "start",
                    "-D", str(self.data_dir),
                    "-l", str(self.log_file),
                    "-w", "-t", str(int(self.start_timeout)),
                    "-o", f"-p {self.port}",
                )  # fmt: skip
            except RuntimeError:
                if attempt == 2 or "already in use" not in self._log_tail():
                    raise
                continue
            self._running = True
            return

    def stop(self) -> None:
        """Immediate shutdown (no checkpoint: the data is thrown away) and delete everything."""
        if self._tmp is None:
            return
        if self._running or (self.data_dir / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")
            except RuntimeError:
                pass  # already gone; still remove the directory
            self._running = False
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what tests use --------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.url_for(self.dbname)

    def url_for(self, dbname: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    def env(self, dbname: str | None = None) -> dict[str, str]:
        """eventsourcing settings for `dbname` (default: the cluster's main test database)."""
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname or self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": "",  # trust auth; eventsourcing insists the key exists
        }

    def create_database(self, name: str) -> str:
        """Create database `name` (fails if it exists) and return its URL."""
        _check_name(name)
        if not self._running:
            raise RuntimeError("ThrowawayPostgres is not running")
        # CREATE DATABASE cannot run inside a transaction block.
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    # -- internals -------------------------------------------------------------------

    @property
    def data_dir(self) -> Path:
        assert self._tmp is not None, "not started"
        return self._tmp / "data"

    @property
    def socket_dir(self) -> Path:
        # Private socket dir: never collide with a system server's /var/run/postgresql.
        assert self._tmp is not None, "not started"
        return self._tmp / "sock"

    @property
    def log_file(self) -> Path:
        assert self._tmp is not None, "not started"
        return self._tmp / "server.log"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin_dir / tool), *args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        assert self._tmp is not None
        # cwd inside the temp dir: as `postgres`, the caller's cwd (e.g. /root) may be
        # unreadable and initdb complains about it.
        result = subprocess.run(
            cmd, cwd=self._tmp, capture_output=True, text=True, timeout=self.start_timeout + 30
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} failed ({result.returncode}): {' '.join(cmd)}\n"
                f"{result.stdout}{result.stderr}\nserver log:\n{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-20:])
        except (OSError, AssertionError):
            return ""

    def _temp_base(self) -> str | None:
        """As root, the `postgres` user must be able to reach the temp dir: if $TMPDIR
        sits under a root-only directory (e.g. /root/tmp), fall back to /tmp."""
        if not self._as_postgres:
            return None
        base = Path(tempfile.gettempdir()).resolve()
        if all(p.stat().st_mode & stat.S_IXOTH for p in (base, *base.parents)):
            return None
        return "/tmp"

    @staticmethod
    def _give_to_postgres(path: Path) -> None:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError(
                "running as root but there is no `postgres` OS user; PostgreSQL refuses "
                "to run as root (install postgresql or run the tests as a normal user)"
            ) from None
        os.chown(path, pw.pw_uid, pw.pw_gid)


def _check_name(name: str) -> str:
    # Names end up in URLs and env vars as well as SQL: keep them boring.
    if not _DB_NAME.match(name):
        raise ValueError(f"database name {name!r} must match {_DB_NAME.pattern}")
    return name
