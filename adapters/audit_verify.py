"""Verifying the audit ledger: every event's hash kept outside its stream, chained in log
order, checked against the store.

The per-stream hash chain (domain.audit) catches edits, insertions, deletions and
reordering inside a stream, except on its last event, which no successor vouches
for. The ledger records (position, order, version, hash) of every event in the very
transaction that stores it (adapters/sealed_store.py, beside this module: the writer and
the checker of the chain share its definition), so deleting or editing an order's latest
event is caught too. Its rolling chain hash is the value to publish or countersign as an
external anchor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from adapters.sealed_store import LEDGER, oid_text, stored_hash
from adapters.sealed_store import chain as chain_step
from adapters.sqldb import SqlDatabase
from domain.audit import GENESIS, ChainReport, check_stream
from projections.tickets import TICKETS


@dataclass
class VerifyReport:
    checked_orders: int = 0
    checked_events: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    unsealed_events: int = 0  # stored without a ledger row: written behind the engine's back
    ledger_head: str = GENESIS
    ledger_position: int = 0  # publish (position, head) as an anchor; check with --anchor

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked_orders": self.checked_orders,
                "checked_events": self.checked_events, "problems": self.problems,
                "unsealed_events": self.unsealed_events, "ledger_head": self.ledger_head,
                "ledger_position": self.ledger_position}


def verify(app: Application, db: SqlDatabase, ticket_no: str | None = None,
           anchors: Sequence[tuple[int, str]] = (),
           on_progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    """Check hash chains of stored events against each other and against the ledger.

    `anchors` are (position, chain hash) pairs published earlier (e.g. a daily head sent
    to the auditors): a ledger rewritten consistently with the events fails them.
    """
    report = VerifyReport()
    with db.transaction(immediate=False) as cur:
        names = dict(cur.execute(f"SELECT originator_id, ticket_no FROM {TICKETS}").fetchall())
        ledger_rows = cur.execute(
            f"SELECT position, originator_id, version, event_hash, chain_hash FROM {LEDGER} "
            "ORDER BY position").fetchall()
    wanted: str | None = None
    if ticket_no is not None:
        wanted = next((oid for oid, no in names.items() if no == ticket_no), None)
        if wanted is None:
            from domain.values import require_ticket_no
            from domain.workorder import order_id

            # order_id() hashes the number as UTF-8: undecodable argv must be refused first.
            wanted = str(order_id(require_ticket_no(ticket_no)))
            names[wanted] = ticket_no

    # Every (order, version) in the events table, read BEFORE the notification log so a
    # concurrent write cannot look hidden: a row the log does not list (e.g. SQLite rowid
    # <= 0) is still loaded by `show`, so it must not escape the checks below.
    all_rows: list[tuple[str, int]] = []
    events_table = getattr(app.recorder, "events_table_name", None)
    if events_table:
        with db.transaction(immediate=False) as cur:
            all_rows = [(oid_text(row[0]), row[1]) for row in cur.execute(
                f"SELECT originator_id, originator_version FROM {events_table}").fetchall()]

    # Every stored event, grouped by order, read raw from the notification log.
    streams: dict[str, list[Notification]] = {}
    stored_at: dict[int, Notification] = {}
    start = 0
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000,
                                                  inclusive_of_start=False)
        if not batch:
            break
        for n in batch:
            stored_at[n.id] = n
            streams.setdefault(str(n.originator_id), []).append(n)
        start = batch[-1].id

    def label(oid: str) -> str:
        return names.get(oid, oid)

    def problem(oid: str, version: int | None, kind: str, message: str) -> None:
        report.problems.append({"ticket_no": label(oid), "version": version, "kind": kind,
                                "message": message})

    ledger_max = ledger_rows[-1][0] if ledger_rows else 0
    if ledger_rows:
        report.ledger_head = ledger_rows[-1][4]
        report.ledger_position = ledger_rows[-1][0]
    chain_at = {row[0]: row[4] for row in ledger_rows}
    for position, expected in anchors:
        if chain_at.get(position) != expected:
            report.problems.append({
                "ticket_no": None, "version": None, "kind": "anchor",
                "message": f"账本在位置 {position} 的链哈希与已公布的锚点不符 / ledger chain hash "
                           f"at position {position} differs from the published anchor"})
    hashes: dict[int, str] = {}
    replayed: dict[str, list[Any]] = {}
    for done, (oid, notes) in enumerate(streams.items(), start=1):
        if on_progress is not None:
            on_progress(done, len(streams))  # orders checked so far, for a progress bar
        if wanted is not None and oid != wanted:
            continue
        notes.sort(key=lambda n: n.originator_version)
        events = []
        for n in notes:
            hashes[n.id] = stored_hash(n)
            try:
                event = app.mapper.to_domain_event(n)
            except Exception as exc:  # noqa: BLE001 - any decode failure is tampering
                problem(oid, n.originator_version, "corrupt",
                        f"事件无法解码 / event cannot be decoded: {exc}")
                continue
            events.append(event)
            if oid not in names and n.originator_version == 1 and hasattr(event, "ticket_no"):
                names[oid] = event.ticket_no  # the ticket list may lag behind the store
        report.checked_orders += 1
        report.checked_events += len(events)
        if events and hasattr(events[0], "prev_hash"):
            chain: ChainReport = check_stream(label(oid), events)
            for version, message in zip(chain.versions, chain.problems, strict=True):
                problem(oid, version, "chain", message)
        replayed[oid] = events

    # Snapshots are not in the notification log (nor in the ledger), yet `show` and
    # `history` start from them: each must equal the replay of events up to its version.
    snapshot_oids: set[str] = set()
    if app.snapshots is not None:
        table = getattr(app.snapshots.recorder, "events_table_name", None)
        if table:
            with db.transaction(immediate=False) as cur:
                snapshot_oids = {oid_text(row[0]) for row in
                                 cur.execute(f"SELECT DISTINCT originator_id FROM {table}"
                                             ).fetchall()}
    listed = {(str(n.originator_id), n.originator_version) for n in stored_at.values()}
    for oid, version in all_rows:
        if (oid, version) not in listed and (wanted is None or oid == wanted):
            problem(oid, version, "inserted", f"事件（版本 {version}）不在通知日志中 / event "
                    f"version {version} is stored outside the notification log (inserted)")
    for oid in sorted(snapshot_oids):
        if wanted is not None and oid != wanted:
            continue
        _check_snapshots(app, oid, replayed.get(oid, []), problem)

    previous = GENESIS
    ledger_positions = set()
    for position, oid, version, digest, chain_hash in ledger_rows:
        ledger_positions.add(position)
        recomputed = chain_step(previous, digest)
        if recomputed != chain_hash:
            problem(oid, version, "ledger", f"账本链断裂于位置 {position} / ledger chain broken "
                    f"at position {position}")
        previous = chain_hash
        if wanted is not None and oid != wanted:
            continue
        stored = stored_at.get(position)
        if stored is None or str(stored.originator_id) != oid or \
                stored.originator_version != version:
            problem(oid, version, "deleted", f"账本中的事件（版本 {version}）已不在事件库中 / "
                    f"event version {version} recorded in the ledger is missing from the store")
        elif hashes.get(position) not in (None, digest):
            problem(oid, version, "edited", f"事件（版本 {version}）内容与账本记录不符 / "
                    f"event version {version} differs from its ledger hash")
    for position, n in stored_at.items():
        if wanted is not None and str(n.originator_id) != wanted:
            continue
        if position <= ledger_max and position not in ledger_positions:
            problem(str(n.originator_id), n.originator_version, "inserted",
                    f"事件（版本 {n.originator_version}）不在账本中 / event version "
                    f"{n.originator_version} was never recorded in the ledger (inserted)")
        elif position > ledger_max:
            # Sealing is atomic with the insert: an unsealed event bypassed the engine.
            report.unsealed_events += 1
            problem(str(n.originator_id), n.originator_version, "unsealed",
                    f"事件（版本 {n.originator_version}）未经引擎写入，账本中无记录 / event "
                    f"version {n.originator_version} has no ledger seal (written around the engine)")
    if wanted is not None and not streams.get(wanted) and not any(
            row[1] == wanted for row in ledger_rows):
        from domain.errors import UnknownTicket

        raise UnknownTicket(ticket_no or "")
    return report


def _check_snapshots(app: Application, oid: str, events: list[Any],
                     problem: Callable[[str, int | None, str, str], None]) -> None:
    """Replay `events` (sorted by version) and compare each stored snapshot on the way."""
    assert app.snapshots is not None
    try:
        snapshots: list[Any] = sorted(app.snapshots.get(UUID(oid)),
                                      key=lambda s: s.originator_version)
    except Exception as exc:  # noqa: BLE001 - any decode failure is tampering
        problem(oid, None, "snapshot", f"快照无法解码 / snapshot cannot be decoded: {exc}")
        return
    aggregate: Any = None
    replay = iter(events)
    for snapshot in snapshots:
        version = snapshot.originator_version
        try:
            while aggregate is None or aggregate.version < version:
                aggregate = next(replay).mutate(aggregate)
        except Exception:  # noqa: BLE001 - stream ends early or is damaged (reported above)
            aggregate = None
        if aggregate is None or aggregate.version != version:
            problem(oid, version, "snapshot",
                    f"快照（版本 {version}）没有对应的事件 / snapshot at version {version} "
                    "is not backed by the stored events")
            return
        # The aggregate's own snapshot class (it may prepare the state, e.g. hash the
        # chain head), whatever class an older engine stored the snapshot with.
        take = getattr(type(aggregate), "Snapshot", type(snapshot)).take
        expected = take(aggregate)
        try:
            # The snapshot as this version of the aggregate reads it: one taken before a
            # class_version bump is upcast, not mistaken for tampering.
            stored = take(snapshot.mutate(None)).state
        except Exception:  # noqa: BLE001 - a state that does not even load is tampering
            stored = None
        if expected.topic != snapshot.topic or expected.state != stored:
            problem(oid, version, "snapshot",
                    f"快照（版本 {version}）与事件重放结果不符（被篡改，或由旧版程序生成）/ "
                    f"snapshot at version {version} differs from the replay of its events "
                    "(tampered, or taken by an older version of the aggregate)")
