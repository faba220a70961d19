"""The sealing recorder for PostgreSQL (see sealed_store.py; kept apart so that SQLite
engines never import psycopg)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from psycopg.sql import SQL

from adapters.sealed_store import LAST_CHAIN, LEDGER, LEDGER_DDL, seal_rows, staged_statements
from domain.audit import GENESIS

# Not the side tables' SCHEMA_LOCK_KEY: build_engine holds that one on another session of
# this very process while the recorder is made, and advisory locks belong to sessions.
EVENT_SCHEMA_LOCK_KEY = 0x72657869616E01


class SchemaGuard:
    """A recorder whose DDL runs under the schema advisory lock: processes starting
    together otherwise fail in the library's `CREATE OR REPLACE FUNCTION` ("tuple
    concurrently updated") or its `CREATE TABLE IF NOT EXISTS` (duplicate pg_type key:
    the snapshots table). The lock is held by a session of its own while the library runs
    its transactions on other pooled connections (the pool has several)."""

    datastore: Any

    def create_table(self) -> None:
        with self.datastore.get_connection() as conn:
            autocommit, conn.autocommit = conn.autocommit, True
            conn.execute("SELECT pg_advisory_lock(%s)", (EVENT_SCHEMA_LOCK_KEY,))
            try:
                super().create_table()  # type: ignore[misc]
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (EVENT_SCHEMA_LOCK_KEY,))
                conn.autocommit = autocommit


class GuardedAggregateRecorder(SchemaGuard, PostgresAggregateRecorder):
    """The snapshot store's recorder."""


class GuardedPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL factory with every table it creates guarded (the
    application recorder is SealedPostgresRecorder, named by APPLICATION_RECORDER_TOPIC)."""

    aggregate_recorder_class = GuardedAggregateRecorder


class SealedPostgresRecorder(SchemaGuard, PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sql_create_statements.append(SQL(LEDGER_DDL))  # type: ignore[arg-type]

    # The cursor asking for the ledger's last chain hash, per writing thread (see below).
    _chain_query = threading.local()

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                              **kwargs: Any) -> None:
        """The library's table lock and insert, then the ledger's last chain hash asked in
        the same pipeline on a cursor of its own: its answer comes back with the insert's
        sync instead of costing a round trip of its own. Asked after the lock, so no other
        writer can seal in between."""
        super()._insert_stored_events(curs, stored_events, **kwargs)
        chain_cursor = curs.connection.cursor()
        chain_cursor.execute(SQL(LAST_CHAIN), prepare=False)  # type: ignore[arg-type]
        self._chain_query.cursor = chain_cursor

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Sequence[StoredEvent],
                                       **kwargs: Any) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        # Read before anything more is queued: the insert's sync brought the answer back.
        chain_cursor = self._chain_query.__dict__.pop("cursor")
        row = chain_cursor.fetchone()
        chain_cursor.close()
        previous = (row["chain_hash"] if isinstance(row, dict) else row[0]) if row else GENESIS
        # prepare=False: these run in the library's pipeline, and a statement psycopg
        # auto-prepares (5th use) in a pipeline that fails before the server parses it is
        # still cached as prepared; every later use on that pooled connection then fails
        # with 'prepared statement "_pg3_N" does not exist'. A staged write failing (a
        # caller's key or a ticket number another worker took) is exactly that case.
        for sql, params in staged_statements(kwargs):
            curs.execute(SQL(sql.replace("?", "%s")), params, prepare=False)  # type: ignore[arg-type]
        if ids:
            # Still inside the insert transaction, under the events table lock.
            curs.executemany(SQL(f"INSERT INTO {LEDGER} VALUES (%s, %s, %s, %s, %s)"),  # type: ignore[arg-type]
                             seal_rows(previous, stored_events, ids))
        return ids
