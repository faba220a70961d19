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
from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

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


class SealedSQLiteRecorder(SQLiteApplicationRecorder):
    _writer: Any = None

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        # Queue behind this process's other writers to the file instead of sleeping in
        # SQLite's busy handler (adapters/sqldb.sqlite_writer).
        if self._writer is None:
            pool = self.datastore.pool
            self._writer = (nullcontext() if pool.is_sqlite_memory_mode
                            else sqlite_writer(pool.db_name))
        with self._writer:
            return super().insert_events(stored_events, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), LEDGER_DDL]

    def _insert_events(self, c: SQLiteCursor, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        for sql, params in staged_statements(kwargs):
            c.execute(sql, params)
        if ids:
            c.execute(LAST_CHAIN)
            row = c.fetchone()
            c.executemany(f"INSERT INTO {LEDGER} VALUES (?, ?, ?, ?, ?)",
                          seal_rows(row[0] if row else GENESIS, stored_events, ids))
        return ids
