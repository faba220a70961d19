"""Where the data lives: one URL picks SQLite (embedded, default) or PostgreSQL.

Side tables (ticket sequences, the personal-data vault, projections) live in the
same database as the events, written through one small DB-API wrapper that
speaks both dialects (`?` placeholders are rewritten for psycopg).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from domain.errors import InvalidInput

DEFAULT_SQLITE = Path("var") / "rexian.db"
SCHEMA_LOCK_KEY = 0x72657869616E  # 'rexian': advisory lock held while creating tables

_WRITERS: dict[str, threading.RLock] = {}
_WRITERS_GUARD = threading.Lock()


def sqlite_writer(path: str | Path) -> threading.RLock:
    """The lock this process's writers to the SQLite file `path` take around a write
    transaction: the event store's inserts (adapters/sealed_store.py) and the side-table
    writes (projections, acknowledgements, the dialler...).

    SQLite has one writer at a time; two connections of one process that try at once
    are not queued, the loser sleeps in SQLite's busy handler with growing back-offs (1,
    2, 5, 10 ... 100 ms) and keeps sleeping after the lock is free. That turned a 2 ms
    command into a 100 ms one whenever the department feed applied a batch while a
    command committed. Queueing on a lock wakes the next writer the moment the lock is
    free. Other processes still meet in the busy handler (rare: one serving process).
    """
    key = os.path.realpath(path)
    with _WRITERS_GUARD:
        return _WRITERS.setdefault(key, threading.RLock())


@dataclass(frozen=True)
class StoreConfig:
    kind: str  # "sqlite" or "postgres"
    sqlite_path: Path | None = None
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""

    @property
    def display(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:{self.sqlite_path}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"

    def eventsourcing_env(self) -> dict[str, str]:
        # Cached aggregates are fast-forwarded from the store on every get, so another
        # process's writes are seen; a command replays only events it has not seen.
        cache = {"AGGREGATE_CACHE_MAXSIZE": "10000", "AGGREGATE_CACHE_FASTFORWARD": "y"}
        if self.kind == "sqlite":
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                    "APPLICATION_RECORDER_TOPIC": "adapters.sealed_store:SealedSQLiteRecorder",
                    "SQLITE_DBNAME": str(self.sqlite_path),
                    "SQLITE_LOCK_TIMEOUT": "30", **cache}
        return {**cache,
                "APPLICATION_RECORDER_TOPIC": "adapters.sealed_postgres:SealedPostgresRecorder",
            "PERSISTENCE_MODULE": "adapters.sealed_postgres:GuardedPostgresFactory",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_LOCK_TIMEOUT": "30",
        }


def parse_db_url(url: str | None) -> StoreConfig:
    """`postgresql://user:pw@host:port/db`, `sqlite:///path`, a bare file path, or None."""
    text = (url or os.environ.get("REXIAN_DB") or "").strip()
    if not text:
        return StoreConfig("sqlite", sqlite_path=DEFAULT_SQLITE)
    if text.startswith(("postgresql://", "postgres://")):
        parsed = urlparse(text)
        if not parsed.hostname or not parsed.path.strip("/"):
            raise InvalidInput("db", f"数据库地址缺少主机或库名：{text}",
                               f"database URL lacks host or database name: {text}")
        return StoreConfig(
            "postgres",
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=unquote(parsed.username or ""),
            password=unquote(parsed.password or ""),
            dbname=parsed.path.strip("/"),
        )
    if text.startswith("sqlite:"):
        path = text.removeprefix("sqlite:").removeprefix("//")
        return StoreConfig("sqlite", sqlite_path=Path(path or DEFAULT_SQLITE))
    if "://" in text:
        raise InvalidInput("db", f"不支持的数据库地址：{text}（支持 sqlite 与 postgresql）",
                           f"unsupported database URL {text!r} (sqlite or postgresql)")
    return StoreConfig("sqlite", sqlite_path=Path(text))


class Cursor:
    """A thin cursor that accepts `?` placeholders on both dialects."""

    def __init__(self, raw: Any, postgres: bool) -> None:
        self._raw = raw
        self._postgres = postgres

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if self._postgres:
            sql = sql.replace("?", "%s")
        self._raw.execute(sql, tuple(params))
        return self

    def fetchone(self) -> Any:
        return self._raw.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._raw.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)


class SqlDatabase:
    """One connection, used under a lock, for the side tables."""

    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.postgres = config.kind == "postgres"
        self._lock = threading.RLock()
        self._conn: Any = None
        # SQLite write transactions queue with the event store's (see sqlite_writer).
        self._writer: Any = (sqlite_writer(config.sqlite_path)
                             if config.kind == "sqlite" and config.sqlite_path else None)

    def _connect(self) -> Any:
        if self.postgres:
            import psycopg

            c = self.config
            conn: Any = psycopg.connect(host=c.host, port=c.port, user=c.user, password=c.password,
                                   dbname=c.dbname, autocommit=False)
            # Side-table commits need not wait for the WAL flush: the event commit that
            # follows them flushes the WAL up to and including them.
            conn.execute("SET synchronous_commit TO off")
            conn.commit()
            return conn
        assert self.config.sqlite_path is not None
        self.config.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        lite: Any = sqlite3.connect(str(self.config.sqlite_path), timeout=30,
                               isolation_level=None, check_same_thread=False)
        lite.execute("PRAGMA journal_mode=WAL")
        # Same reasoning as above: the next FULL-sync event commit persists these pages.
        lite.execute("PRAGMA synchronous=NORMAL")
        lite.execute("PRAGMA busy_timeout=30000")
        # Deleted or rewritten rows are zeroed, not left in free space: a shredded or
        # rewrapped key must not linger in the file (the vault's statements run here).
        lite.execute("PRAGMA secure_delete=ON")
        return lite

    @contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[Cursor]:
        """A write transaction (SQLite: BEGIN IMMEDIATE, so writers queue instead of failing).
        The process's writer lock is taken before the connection's lock, in the same order
        as everywhere else, and only for writes: readers never wait for a writer (WAL)."""
        writer = self._writer if immediate and self._writer is not None else nullcontext()
        with writer, self._lock:
            if self._conn is None:
                self._conn = self._connect()
            conn = self._conn
            if not self.postgres:
                conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            cursor = Cursor(conn.cursor(), self.postgres)
            try:
                yield cursor
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()

    @contextmanager
    def schema_transaction(self) -> Iterator[Cursor]:
        """A write transaction for DDL: on PostgreSQL it first takes the schema advisory
        lock for the transaction, so processes creating the same tables take turns (a
        session already holding schema_lock() passes straight through)."""
        with self.transaction() as cur:
            if self.postgres:
                cur.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK_KEY,))
            yield cur

    @contextmanager
    def schema_lock(self) -> Iterator[None]:
        """Serialise schema set-up between processes starting at the same time.

        On PostgreSQL, concurrent `CREATE TABLE IF NOT EXISTS` and the event store's
        `CREATE OR REPLACE FUNCTION` fail with "duplicate key" / "tuple concurrently
        updated"; a session advisory lock makes starting engines take turns.
        """
        if not self.postgres:
            yield
            return
        with self.transaction() as cur:
            cur.execute("SELECT pg_advisory_lock(?)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            with self.transaction() as cur:
                cur.execute("SELECT pg_advisory_unlock(?)", (SCHEMA_LOCK_KEY,))

    def checkpoint(self) -> None:
        """SQLite: copy the WAL into the database file and truncate it, so page images
        written before a key was shredded or rewrapped leave the WAL (best effort: a
        reader still holding an old snapshot keeps its frames until the next one)."""
        if self.postgres:
            return
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
