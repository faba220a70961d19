"""Tamper evidence: every event carries the hash of its predecessor in the order's stream.

The hash covers the event's canonical JSON (all fields, sorted keys), so editing any
stored field, deleting, inserting or reordering an event breaks the chain. The last
event of a stream has no successor to vouch for it: the audit ledger (written by
adapters/sealed_store.py, checked by adapters/audit_verify.py) keeps every event's hash
outside the stream to catch that.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

# The predecessor hash of every stream's first event and the ledger's first row.
GENESIS = "0" * 64


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot hash value of type {type(value).__name__}")


def canonical_json(kind: str, fields: dict[str, Any]) -> bytes:
    body = {"kind": kind, **fields}
    return json.dumps(
        body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default
    ).encode("utf-8")


def event_hash(event: Any) -> str:
    """sha256 over the event's class name and every field (including prev_hash)."""
    return hashlib.sha256(canonical_json(type(event).__qualname__, dict(event.__dict__))).hexdigest()


@dataclass
class ChainReport:
    """What `verify` found in one stream."""

    ticket_no: str
    events: int
    problems: list[str] = field(default_factory=list)
    # The stored version each problem is about, parallel to `problems`.
    versions: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_stream(ticket_no: str, events: list[Any]) -> ChainReport:
    """Check versions run 1..n without gaps and each prev_hash matches its predecessor."""
    report = ChainReport(ticket_no, len(events))
    expected_prev = GENESIS
    for position, event in enumerate(events, start=1):
        version = event.originator_version
        if version != position:
            report.problems.append(
                f"版本不连续：第 {position} 个事件的版本为 {version} / version gap: event "
                f"#{position} has version {version} (deleted, inserted or reordered event)"
            )
            report.versions.append(version)
        if event.prev_hash != expected_prev:
            report.problems.append(
                f"哈希链断裂：版本 {version} 的前序哈希不符 / hash chain broken at version "
                f"{version}: prev_hash does not match the preceding event (edited, deleted, "
                "inserted or reordered event)"
            )
            report.versions.append(version)
        expected_prev = event_hash(event)
    return report
