"""Projection runner: follows the application's notification log into read-model tables.

Each batch is applied and the tracking position advanced in ONE transaction, so a
projection is resumable (restart continues from the position), rebuildable (drop
its tables and tracking row) and never applies an event twice. PostgreSQL's
recorder serialises inserts with a table lock, so notification ids become visible
in order: a reader never skips a gap that later fills in.
"""

from __future__ import annotations

from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from adapters.sqldb import Cursor, SqlDatabase

TRACKING = "rexian_projection_tracking"


class Projection(Protocol):
    name: str

    def create_tables(self, cur: Cursor) -> None: ...

    def drop_tables(self, cur: Cursor) -> None: ...

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None: ...


class ProjectionRunner:
    def __init__(self, app: Application, db: SqlDatabase, projection: Projection,
                 batch_size: int = 500) -> None:
        self.app = app
        self.db = db
        self.projection = projection
        self.batch_size = batch_size
        with db.transaction() as cur:
            cur.execute(f"CREATE TABLE IF NOT EXISTS {TRACKING} (projection TEXT PRIMARY KEY, "
                        "position INTEGER NOT NULL)")
            cur.execute(f"INSERT INTO {TRACKING} (projection, position) VALUES (?, 0) "
                        "ON CONFLICT (projection) DO NOTHING", (projection.name,))
            projection.create_tables(cur)

    def position(self) -> int:
        with self.db.transaction(immediate=False) as cur:
            row = cur.execute(f"SELECT position FROM {TRACKING} WHERE projection = ?",
                              (self.projection.name,)).fetchone()
        return int(row[0])

    def catch_up(self) -> int:
        """Apply every new notification; returns how many were applied."""
        applied = 0
        while True:
            start = self.position()
            batch = self.app.recorder.select_notifications(
                start=start, limit=self.batch_size, inclusive_of_start=False)
            if not batch:
                return applied
            with self.db.transaction() as cur:
                # Lock the tracking row; a concurrent runner that got here first wins.
                lock = " FOR UPDATE" if self.db.postgres else ""
                current = cur.execute(
                    f"SELECT position FROM {TRACKING} WHERE projection = ?{lock}",
                    (self.projection.name,)).fetchone()[0]
                if current != start:
                    continue
                for notification in batch:
                    self.projection.apply(cur, notification,
                                          self.app.mapper.to_domain_event(notification))
                cur.execute(f"UPDATE {TRACKING} SET position = ? WHERE projection = ?",
                            (batch[-1].id, self.projection.name))
            applied += len(batch)

    def rebuild(self) -> int:
        with self.db.transaction() as cur:
            self.projection.drop_tables(cur)
            self.projection.create_tables(cur)
            cur.execute(f"UPDATE {TRACKING} SET position = 0 WHERE projection = ?",
                        (self.projection.name,))
        return self.catch_up()
