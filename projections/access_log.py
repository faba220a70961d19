"""Read models of access control: the access log by time, and the issued tokens.

Both are folds of events in the store (domain/access): the log's entries themselves are
the sealed AccessEntry events (checked by `verify`); these tables only make `rexian audit
reads --since` and `rexian token list` one query. Rebuildable like every projection.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Notification

from domain.access.access_log import AccessEntry
from domain.access.credentials import Credential
from projections.sql import Cursor, Database

ACCESS_LOG = "rexian_access_log"
CREDENTIALS = "rexian_credentials"
_LOG_COLUMNS = ("position", "at", "actor_role", "actor_id", "action", "operation",
                "target_kind", "target", "reason", "detail", "via")


class AccessLogIndex:
    name = "access_log"

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {ACCESS_LOG} (position BIGINT PRIMARY KEY, "
                    "at TEXT NOT NULL, actor_role TEXT NOT NULL, actor_id TEXT NOT NULL, "
                    "action TEXT NOT NULL, operation TEXT NOT NULL, target_kind TEXT NOT NULL, "
                    "target TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, "
                    "via TEXT NOT NULL)")
        cur.execute(f"CREATE INDEX IF NOT EXISTS {ACCESS_LOG}_at ON {ACCESS_LOG} (at)")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {CREDENTIALS} (token_id TEXT PRIMARY KEY, "
                    "roles TEXT NOT NULL, staff_id TEXT NOT NULL, dept TEXT, "
                    "expires_at TEXT, issued_at TEXT NOT NULL, revoked_at TEXT)")

    def drop_tables(self, cur: Cursor) -> None:
        cur.execute(f"DROP TABLE IF EXISTS {ACCESS_LOG}")
        cur.execute(f"DROP TABLE IF EXISTS {CREDENTIALS}")

    def apply(self, cur: Cursor, notification: Notification, event: Any) -> None:
        if isinstance(event, AccessEntry.Recorded):
            cur.execute(
                f"INSERT INTO {ACCESS_LOG} ({', '.join(_LOG_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(_LOG_COLUMNS))}) ON CONFLICT (position) DO NOTHING",
                (notification.id, _utc(event.timestamp), event.actor_role, event.actor_id,
                 event.action, event.operation, event.target_kind, event.target,
                 event.reason, event.detail, event.via))
        elif isinstance(event, Credential.Issued):
            cur.execute(f"INSERT INTO {CREDENTIALS} (token_id, roles, staff_id, dept, "
                        "expires_at, issued_at) VALUES (?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (token_id) DO NOTHING",
                        (str(event.originator_id), ",".join(event.roles), event.staff_id,
                         event.dept,
                         _utc(event.expires_at) if event.expires_at else None,
                         _utc(event.timestamp)))
        elif isinstance(event, Credential.Revoked):
            cur.execute(f"UPDATE {CREDENTIALS} SET revoked_at = ? WHERE token_id = ?",
                        (_utc(event.timestamp), str(event.originator_id)))


def _utc(instant: datetime) -> str:
    # One fixed width, so the text order is the time order (`since` compares as text).
    return instant.astimezone(UTC).isoformat(timespec="microseconds")


def access_entries(db: Database, since: datetime, limit: int = 10_000) -> list[dict[str, Any]]:
    """Entries at or after `since`, oldest first (instants as stored: UTC ISO)."""
    with db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT {', '.join(_LOG_COLUMNS)} FROM {ACCESS_LOG} "
                           "WHERE at >= ? ORDER BY position LIMIT ?",
                           (_utc(since), limit)).fetchall()
    return [dict(zip(_LOG_COLUMNS, row, strict=True)) for row in rows]


def credentials(db: Database) -> list[dict[str, Any]]:
    columns = ("token_id", "roles", "staff_id", "dept", "expires_at", "issued_at", "revoked_at")
    with db.transaction(immediate=False) as cur:
        rows = cur.execute(f"SELECT {', '.join(columns)} FROM {CREDENTIALS} "
                           "ORDER BY issued_at").fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]
