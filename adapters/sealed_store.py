"""Event-store recorders that seal every event in the audit ledger in the same transaction.

The ledger row (position, order, version, hash of the stored bytes, rolling chain hash)
is written by the very transaction that stores the event, under the event store's own
write lock (SQLite's writer lock; PostgreSQL's table lock that also orders notification
ids). So there is no window in which an event exists unsealed, and no extra commit per
command. `rexian verify` compares the store with the ledger. The PostgreSQL recorder lives
in sealed_postgres.py, so a SQLite engine never imports psycopg.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, PersistenceError, StoredEvent
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteTransaction,
)

from adapters.sqldb import sqlite_writer
from domain.audit import GENESIS

LEDGER = "rexian_audit_ledger"
LEDGER_DDL = (f"CREATE TABLE IF NOT EXISTS {LEDGER} (position BIGINT PRIMARY KEY, "
              "originator_id TEXT NOT NULL, version INTEGER NOT NULL, "
              "event_hash TEXT NOT NULL, chain_hash TEXT NOT NULL)")
LAST_CHAIN = f"SELECT chain_hash FROM {LEDGER} ORDER BY position DESC LIMIT 1"


def oid_text(raw: Any) -> str:
    """An originator id spelled one way whatever the backend stores (SQLite: bare hex)."""
    if isinstance(raw, UUID):  # what the recorders are given: no round trip
        return str(raw)
    try:
        return str(UUID(str(raw)))
    except ValueError:
        return str(raw)


def stored_hash(stored: StoredEvent) -> str:
    """sha256 over the event exactly as stored (any changed byte changes it)."""
    digest = hashlib.sha256()
    digest.update(f"{oid_text(stored.originator_id)}|{stored.originator_version}|"
                  f"{stored.topic}|".encode())
    digest.update(stored.state)
    return digest.hexdigest()


def staged_statements(kwargs: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    """The side-table writes saved with these events (`app.save(..., staged=[...])`):
    they commit or roll back with them."""
    return [statement for write in kwargs.get("staged") or () for statement in write.statements()]


def chain(previous: str, event_hash: str) -> str:
    return hashlib.sha256(f"{previous}{event_hash}".encode()).hexdigest()


def seal_rows(previous: str, stored: Sequence[StoredEvent],
              ids: Sequence[int]) -> list[tuple[int, str, int, str, str]]:
    rows = []
    for event, position in zip(stored, ids, strict=True):
        digest = stored_hash(event)
        previous = chain(previous, digest)
        rows.append((position, oid_text(event.originator_id), event.originator_version,
                     digest, previous))
    return rows


# Prepared statements each connection keeps (the library asks for cached_statements=True,
# i.e. ONE: a command's select, insert, ledger insert and chain lookup evicted each other
# and were compiled again every time, ~90 us for the select alone).
STATEMENT_CACHE = 64


class StatementCachingPool(SQLiteConnectionPool):
    """The library's SQLite connection pool, its connections opened with a statement cache
    (the rest as in SQLiteConnectionPool._create_connection)."""

    def _create_connection(self) -> SQLiteConnection:
        try:
            raw = sqlite3.connect(database=self.db_name, uri=True, check_same_thread=False,
                                  isolation_level=None, cached_statements=STATEMENT_CACHE,
                                  timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT)
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            if raw.execute("PRAGMA journal_mode;").fetchone()[0].lower() != "wal":
                raw.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        raw.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=raw, max_age=self.max_age)


def cache_statements(datastore: SQLiteDatastore) -> None:
    """Make `datastore`'s pool open its connections with a statement cache; idle ones
    opened before (the snapshot table's DDL) are closed, so none keeps the tiny cache."""
    pool = datastore.pool
    if type(pool) is not SQLiteConnectionPool or pool.is_sqlite_memory_mode:
        return  # already done, or an in-memory database that lives in its connections
    pool.__class__ = StatementCachingPool
    while pool._pool:
        pool._pool.popleft().close()


class SealedSQLiteRecorder(SQLiteApplicationRecorder):
    _writer: Any = None

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        cache_statements(datastore)
        super().__init__(datastore, **kwargs)
    # The last ledger row this recorder committed: (position, chain hash), or None. Set
    # only after its transaction committed, so a rolled-back save never leaves a head
    # that is not in the table; used only when the new events' first notification id
    # follows it (see _previous_chain).
    _head: tuple[int, str] | None = None

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """The library's insert transaction without its context-manager stack, queued
        behind this process's other writers to the file instead of sleeping in SQLite's
        busy handler (adapters/sqldb.sqlite_writer)."""
        if self._writer is None:
            pool = self.datastore.pool
            self._writer = (nullcontext() if pool.is_sqlite_memory_mode
                            else sqlite_writer(pool.db_name))
        with self._writer:
            pool = self.datastore.pool
            connection = pool.get_connection(is_writer=True)
            self._pending: tuple[int, str] | None = None
            try:
                # BEGIN on enter; commit, or roll back and raise the library's error, on exit.
                with SQLiteTransaction(connection, commit=True) as cursor:
                    ids = self._insert_events(cursor, stored_events, **kwargs)
                self._head = self._pending or self._head  # committed
            finally:
                if connection._sqlite_conn.in_transaction:
                    # A COMMIT that failed (a deferred constraint) leaves the transaction
                    # open, and the library returns it to the pool holding the write lock.
                    connection.rollback()
                pool.put_connection(connection)
            return ids

    def select_events(self, originator_id: UUID | str, *, gt: int | None = None,
                      lte: int | None = None, desc: bool = False,
                      limit: int | None = None) -> Sequence[StoredEvent]:
        """What every command's load asks (an order's events, or those after its cached
        version) as one autocommit SELECT (a statement is its own read transaction) on a
        pooled connection: no BEGIN/ROLLBACK round and no context-manager stack, which
        cost ~10x the query. Other selections go the library's way."""
        if lte is not None or desc or limit is not None:
            return super().select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                         limit=limit)
        key = originator_id.hex if isinstance(originator_id, UUID) else originator_id
        params: tuple[Any, ...]
        if gt is None:
            statement, params = self._select_all, (key,)
        else:
            statement, params = self._select_after, (key, gt)
        pool = self.datastore.pool
        connection = pool.get_connection(is_writer=False)
        try:
            rows = connection.cursor().sqlite_cursor.execute(statement, params).fetchall()
        except sqlite3.Error as error:
            raise PersistenceError(error) from error
        finally:
            pool.put_connection(connection)
        identity = originator_id if isinstance(originator_id, UUID) else None
        return [StoredEvent(originator_id=identity or self.convert_originator_id(row[0]),
                            originator_version=row[1], topic=row[2], state=row[3])
                for row in rows]

    @property
    def _select_all(self) -> str:
        return (f"SELECT originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE originator_id=? ORDER BY originator_version")

    @property
    def _select_after(self) -> str:
        return (f"SELECT originator_id, originator_version, topic, state FROM "
                f"{self.events_table_name} WHERE originator_id=? AND originator_version>? "
                "ORDER BY originator_version")

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), LEDGER_DDL]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        for sql, params in staged_statements(kwargs):
            c.execute(sql, params)
        if ids:
            rows = seal_rows(self._previous_chain(c, ids[0]), stored_events, ids)
            c.executemany(f"INSERT INTO {LEDGER} VALUES (?, ?, ?, ?, ?)", rows)
            self._pending = (rows[-1][0], rows[-1][4])
        return ids

    def _previous_chain(self, c: SQLiteCursor, first_id: int) -> str:
        """The chain hash the new rows extend: the ledger's last row.

        That is this recorder's last committed row when the new events' first
        notification id (SQLite's rowid: one above the largest stored, a rolled-back
        insert's id used again) follows it directly: any event committed since, by any
        writer, would hold that id. Otherwise (another process wrote, or nothing was
        committed here yet) it is looked up, under the write lock this insert holds."""
        head = self._head
        if head is not None and first_id == head[0] + 1:
            return head[1]
        c.execute(LAST_CHAIN)
        row = c.fetchone()
        return str(row[0]) if row else GENESIS
