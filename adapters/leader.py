"""One leader at a time among engine processes, with fail-over when the leader dies.

PostgreSQL: a session advisory lock on a connection of its own. The lock lives exactly as
long as that session: when the leader process dies (kill -9 included) the kernel closes its
socket, the server ends the session and the lock is free; a standby trying every
`standby_interval` takes over. A leader checks its session every `check_interval` and
stops leading when the session is gone (the server restarted, the network dropped), so
two leaders overlap by at most that interval. SQLite (one machine): an exclusive `flock`
on a file beside the store, released by the kernel when the process dies.

What is led here (the Kafka relay) is at-least-once by design, so an overlap of two
leaders costs duplicate records, never a lost one (its position never moves back).
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from adapters.sqldb import StoreConfig

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for `name`."""
    return int.from_bytes(hashlib.sha256(f"rexian:{name}".encode()).digest()[:8], "big",
                          signed=True)


class Leadership(Protocol):
    def try_acquire(self) -> bool: ...

    def held(self) -> bool: ...

    def release(self) -> None: ...


class AdvisoryLeadership:
    """PostgreSQL session advisory lock `lock_key(name)`."""

    def __init__(self, config: StoreConfig, name: str) -> None:
        self.config = config
        self.name = name
        self.key = lock_key(name)
        self._conn: Any = None
        self._held = False

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg

            c = self.config
            # A short keepalive: a leader cut off from the server notices within seconds.
            self._conn = psycopg.connect(host=c.host, port=c.port, user=c.user,
                                         password=c.password, dbname=c.dbname,
                                         autocommit=True, connect_timeout=5,
                                         keepalives_idle=5, keepalives_interval=2,
                                         keepalives_count=2)
            self._held = False
        return self._conn

    def try_acquire(self) -> bool:
        if self._held:
            # Advisory locks count: asking again would need two unlocks to free it.
            return self.held()
        try:
            row = self._connection().execute("SELECT pg_try_advisory_lock(%s)",
                                              (self.key,)).fetchone()
        except Exception:  # noqa: BLE001 - no database: not the leader, try again later
            log.warning("leader %s: cannot reach the database", self.name, exc_info=True)
            self._drop()
            return False
        self._held = bool(row[0])
        return self._held

    def held(self) -> bool:
        if not self._held or self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except Exception:  # noqa: BLE001 - the session (and so the lock) is gone
            log.warning("leader %s: lost the lock's session", self.name, exc_info=True)
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._held and self._conn is not None:
            try:
                self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            except Exception:  # noqa: BLE001 - session gone: the lock went with it
                self._drop()
        self._held = False

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - already broken
                pass
            self._conn = None

    def close(self) -> None:
        self.release()
        self._drop()


class FileLeadership:
    """An exclusive flock on `<store>.<name>.leader` (SQLite stores: one machine)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def close(self) -> None:
        self.release()


def leadership(config: StoreConfig, name: str) -> AdvisoryLeadership | FileLeadership:
    if config.kind == "postgres":
        return AdvisoryLeadership(config, name)
    assert config.sqlite_path is not None
    return FileLeadership(config.sqlite_path.with_name(f"{config.sqlite_path.name}.{name}.leader"))


def lead(leader: Leadership, stop: threading.Event, term: Callable[[threading.Event], None],
         *, standby_interval: float = 0.5, check_interval: float = 1.0,
         on_change: Callable[[bool], None] | None = None) -> None:
    """Until `stop`: wait to become leader, then run `term(over)`; `over` is set when
    `stop` is set or the leadership is lost, and `term` must return soon after. After a
    lost or failed term (an exception is logged) the process goes back to standby. `on_change(True/False)` reports
    becoming leader and leaving it."""
    while not stop.is_set():
        if not leader.try_acquire():
            stop.wait(standby_interval)
            continue
        if on_change is not None:
            on_change(True)
        over = threading.Event()

        def watch(over: threading.Event = over) -> None:
            while not over.is_set():
                if stop.wait(check_interval) or not leader.held():
                    over.set()

        watcher = threading.Thread(target=watch, name="rexian-leader-watch", daemon=True)
        watcher.start()
        failed = False
        try:
            term(over)
        except Exception:  # noqa: BLE001 - e.g. broker or helper down: hand over, retry
            log.exception("leader term failed; standing by")
            failed = True
        finally:
            over.set()
            watcher.join()
            leader.release()
            if on_change is not None:
                on_change(False)
        if failed:
            stop.wait(max(standby_interval, 1.0))  # give a healthier standby the lock
