"""Projection runner: follows the application's notification log into read-model tables.

Each batch is applied and the tracking position advanced in ONE transaction, so a
projection is resumable (restart continues from the position), rebuildable (drop
its tables and tracking row) and never applies an event twice. PostgreSQL's
recorder serialises inserts with a table lock, so notification ids become visible
in order: a reader never skips a gap that later fills in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from projections.sql import Cursor, Database

TRACKING = "rexian_projection_tracking"


class Projection(Protocol):
    name: str

    def create_tables(self, cur: Cursor) -> None: ...

    def drop_tables(self, cur: Cursor) -> None: ...

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None: ...


class ProjectionRunner:
    def __init__(self, app: Application, db: Database, projection: Projection,
                 batch_size: int = 500) -> None:
        self.app = app
        self.db = db
        self.projection = projection
        self.batch_size = batch_size
        # Where this runner last left the tracking row (None: unknown, read it). Only a
        # hint that saves a read per catch_up: it is checked under the row lock below.
        self._position: int | None = None
        with db.schema_transaction() as cur:
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

    def catch_up(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Apply every notification stored before this call; returns how many were applied.
        `on_progress(position, head)` is called after each batch (for a progress bar).

        After a save this is one log read and one write transaction (was: two position
        reads, two log reads, one write). The position this runner remembers is
        verified before it counts: under the tracking-row lock when there is something
        to apply, by a read when there is not; a stale one (another runner advanced it,
        a rebuild reset it) only costs a retry. A batch shorter than `batch_size` held
        everything stored before the read, so the loop stops there.
        """
        applied = 0
        head = (self.app.recorder.max_notification_id() or 0) if on_progress else 0
        while True:
            remembered = self._position
            start = self.position() if remembered is None else remembered
            batch = self.app.recorder.select_notifications(
                start=start, limit=self.batch_size, inclusive_of_start=False)
            if not batch:
                if remembered is not None:
                    # Nothing above the remembered position: confirm it is still the
                    # stored one (a rebuild elsewhere may have reset it).
                    current = self.position()
                    if current != remembered:
                        self._position = current
                        continue
                return applied
            # Decoded before the write transaction: it holds the database's writer lock,
            # which the event store's commits wait for (SQLite has one writer).
            events = [self.app.mapper.to_domain_event(n) for n in batch]
            with self.db.transaction() as cur:
                # Lock the tracking row; a concurrent runner that got here first wins.
                lock = " FOR UPDATE" if self.db.postgres else ""
                current = int(cur.execute(
                    f"SELECT position FROM {TRACKING} WHERE projection = ?{lock}",
                    (self.projection.name,)).fetchone()[0])
                if current != start:
                    self._position = current
                    continue
                for notification, event in zip(batch, events, strict=True):
                    self.projection.apply(cur, notification, event)
                cur.execute(f"UPDATE {TRACKING} SET position = ? WHERE projection = ?",
                            (batch[-1].id, self.projection.name))
            self._position = batch[-1].id
            applied += len(batch)
            if on_progress is not None:
                on_progress(min(batch[-1].id, head), head)
            if len(batch) < self.batch_size:
                # A short batch held everything stored before the read: done.
                return applied

    def rebuild(self, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Drop and refill the read model from the whole log (readers see it refill)."""
        with self.db.schema_transaction() as cur:
            self.projection.drop_tables(cur)
            self.projection.create_tables(cur)
            cur.execute(f"UPDATE {TRACKING} SET position = 0 WHERE projection = ?",
                        (self.projection.name,))
        self._position = 0
        return self.catch_up(on_progress)
