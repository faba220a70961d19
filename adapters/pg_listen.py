"""Wake-ups from PostgreSQL LISTEN/NOTIFY: followers sleep until the event store grows.

eventsourcing's PostgreSQL recorder issues `NOTIFY <events table>` inside every insert
transaction, after taking the table lock; PostgreSQL delivers a notification only when
that transaction commits (never for a rolled-back one), in commit order. A listener is
only a doorbell: what to read is decided by the follower's tracking position, so a
notification that is lost (the listening connection dropped) costs at most one poll
interval, never an event.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from psycopg.sql import SQL, Identifier

from adapters.sqldb import StoreConfig

log = logging.getLogger(__name__)


class PgListener:
    """`wait(timeout)` returns True as soon as a notification arrived on `channel` (any
    queued since the last call count), False after `timeout` without one."""

    def __init__(self, config: StoreConfig, channel: str) -> None:
        if config.kind != "postgres":
            raise ValueError("LISTEN/NOTIFY needs a PostgreSQL store")
        self.config = config
        self.channel = channel
        self._conn: Any = None
        self._connect()

    def _connect(self) -> None:
        import psycopg

        c = self.config
        self._conn = psycopg.connect(host=c.host, port=c.port, user=c.user,
                                     password=c.password, dbname=c.dbname, autocommit=True)
        # LISTEN before the caller's first read: a commit after this point always rings.
        self._conn.execute(SQL("LISTEN {}").format(Identifier(self.channel)))

    def wait(self, timeout: float) -> bool:
        try:
            if self._conn is None:
                self._connect()
                return True  # notifications may have been missed while disconnected
            got = any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
            if got:
                # Drain what else is queued: one catch-up covers all of them.
                for _ in self._conn.notifies(timeout=0.0):
                    pass
            return got
        except Exception:  # noqa: BLE001 - the connection dropped: reconnect, read anyway
            log.warning("LISTEN %s: connection lost; reconnecting", self.channel, exc_info=True)
            self.close()
            time.sleep(min(timeout, 0.5))
            return True

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass
            self._conn = None
