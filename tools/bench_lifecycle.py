"""Lifecycle throughput: our engine against a bare eventsourcing baseline, same run.

`python -m tools.bench lifecycle [--tickets N] [--backend sqlite|postgres|both]
[--chunk K] [--warmup W] [--tmpdir DIR] [--json]`

OURS: N full lifecycles through the application service as production wires it
(`adapters.bootstrap.build_engine`: personal-data vault, ticket numbers, deadline
policy, audit-ledger sealing after every save): intake -> dispatch -> sign ->
resolve -> callback 满意 (archive), i.e. 5 commands and 5 events per ticket.

BASELINE: a bare eventsourcing Aggregate (`BareOrder`, below) with no state
machine, policies or side tables. For the same N orders it stores the same events
with the same payloads (field names and values copied from the events our engine
just stored: encrypted personal token, prev_hash strings, deadlines, timestamps,
order ids), one command = repository.get + trigger_event + save, on its own store
with the same eventsourcing settings.

The two run interleaved in chunks (K lifecycles of ours, then the same K orders as
baseline, repeated), so machine noise hits both alike. W warm-up lifecycles of
each run first and are not counted.

Result shape: {"sqlite": ROW, "postgres": ROW} (only the requested backends), with
ROW = {"backend", "tickets", "events", "events_per_s", "baseline_events_per_s",
"ratio", "seconds", "baseline_seconds", "baseline_events", "sealed_events",
"same_payloads", "chunk", "warmup"}:
  ratio          events_per_s / baseline_events_per_s (1.0 = as fast as the baseline)
  sealed_events  audit-ledger rows for the measured tickets (must equal events)
  same_payloads  the last chunk's baseline events equal ours, field by field
If PostgreSQL cannot start, its ROW is {"backend": "postgres", "error": "..."}.

SQLite files go to a fresh temp dir (--tmpdir picks where: on disk every event
commit waits for fsync; on /dev/shm the figures are CPU-bound). PostgreSQL runs on
a ThrowawayPostgres cluster (tests/support/postgres.py) with fsync and
synchronous_commit off: CPU-bound too. Run from the repository root.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from adapters.bootstrap import Engine, build_engine
from adapters.sealed_store import LEDGER
from adapters.sqldb import parse_db_url
from domain.service import WorkOrderService
from domain.values import Actor
from domain.workorder import WorkOrder, order_id

DEFAULT_TICKETS = {"sqlite": 500, "postgres": 300}
EVENTS_PER_TICKET = 5

AGENT = Actor("agent", "A1001")
DISPATCHER = Actor("dispatcher", "D2001")
LEAD = "区城管局"
ASSIST = "区住建局"
UNIT = Actor("department", LEAD)
ROBOT = Actor("robot", "callback-bot")

# Event fields eventsourcing sets itself; everything else is payload.
_ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic")


# ----- the baseline ---------------------------------------------------------------------
LIFECYCLE_EVENTS = ("Registered", "Dispatched", "Signed", "Resolved", "CallbackArchived")


class BareOrder(Aggregate):
    """No rules, no state, no hashing: it only records events.

    Its event classes (attached below) have the same names and payload fields as
    WorkOrder's lifecycle events, read from WorkOrder's own event dataclasses so the
    baseline follows any change to the domain's event schema.
    """

    def __init__(self) -> None:
        pass


def _bare_event(name: str) -> type[Any]:
    ours = getattr(WorkOrder, name)
    fields = {f.name: Any for f in dataclasses.fields(ours) if f.name not in _ENVELOPE}
    base = Aggregate.Created if issubclass(ours, Aggregate.Created) else Aggregate.Event
    namespace = {"__annotations__": fields, "__module__": __name__,
                 "__qualname__": f"BareOrder.{name}"}
    return type(name, (base,), namespace)


for _name in LIFECYCLE_EVENTS:
    setattr(BareOrder, _name, _bare_event(_name))


class BaselineApp(Application):
    name = "RexianBaseline"
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {BareOrder: 50}

    def record(self, oid: UUID, kind: str, timestamp: datetime, fields: dict[str, Any]) -> None:
        """One command: load (unless creating), trigger the event, save."""
        event_class = getattr(BareOrder, kind)
        if issubclass(event_class, Aggregate.Created):
            order = BareOrder._create(event_class, id=oid, timestamp=timestamp, **fields)
        else:
            order = self.repository.get(oid)
            order.trigger_event(event_class, timestamp=timestamp, **fields)
        self.save(order)


Payload = tuple[UUID, str, datetime, dict[str, Any]]


# ----- one lifecycle of ours -------------------------------------------------------------
def our_lifecycle(service: WorkOrderService, i: int) -> str:
    ticket = service.intake(
        channel="电话", category="投诉", urgency="一般", region="甬江区东湖街道",
        content=f"第{i}号来电：小区门口夜间施工噪音扰民，要求停工整改",
        caller_name="张三", caller_phone=f"139{i:08d}", actor=AGENT,
    )
    service.dispatch(ticket, dept=LEAD, assist=[ASSIST], actor=DISPATCHER)
    service.sign(ticket, dept=LEAD, actor=UNIT)
    service.resolve(ticket, dept=LEAD, reply="已责令施工单位夜间停工并处罚款", actor=UNIT)
    service.record_callback(ticket, result="满意", comment="", actor=ROBOT)
    return ticket


def stored_payloads(service: WorkOrderService, tickets: list[str]) -> list[list[Payload]]:
    """What our engine stored, per ticket in command order (read back, not timed)."""
    result = []
    for ticket in tickets:
        oid = order_id(ticket)
        events = []
        for stored in service.events.get(oid):
            event: Any = stored
            fields = {k: v for k, v in event.__dict__.items() if k not in _ENVELOPE}
            events.append((oid, type(event).__name__, event.timestamp, fields))
        result.append(events)
    return result


def replay(app: BaselineApp, orders: list[list[Payload]]) -> int:
    """Baseline commands in the same order as ours: ticket by ticket, event by event."""
    count = 0
    for events in orders:
        for oid, kind, timestamp, fields in events:
            app.record(oid, kind, timestamp, fields)
            count += 1
    return count


def same_payloads(app: BaselineApp, orders: list[list[Payload]]) -> bool:
    """Did the baseline store exactly our events (kind, time, every payload field)?"""
    for events in orders:
        if not events:
            continue
        recorded: list[Any] = list(app.events.get(events[0][0]))
        stored = [(e.originator_id, type(e).__name__, e.timestamp,
                   {k: v for k, v in e.__dict__.items() if k not in _ENVELOPE})
                  for e in recorded]
        if stored != events:
            return False
    return True


def bare_env(url: str) -> dict[str, str]:
    """The same store settings without what the engine adds (sealing recorder, cache)."""
    env = parse_db_url(url).eventsourcing_env()
    for key in ("APPLICATION_RECORDER_TOPIC", "AGGREGATE_CACHE_MAXSIZE",
                "AGGREGATE_CACHE_FASTFORWARD"):
        env.pop(key, None)
    return env


# ----- one backend -----------------------------------------------------------------------
def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    began = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - began


def measure(engine: Engine, baseline: BaselineApp, *, tickets: int, chunk: int,
            warmup: int) -> dict[str, Any]:
    service = engine.service
    serial = 0

    def ours(n: int) -> list[str]:
        nonlocal serial
        done = []
        for _ in range(n):
            serial += 1
            done.append(our_lifecycle(service, serial))
        return done

    # Warm-up (not counted): first connections, statement caches, lazy imports.
    if warmup:
        replay(baseline, stored_payloads(service, ours(warmup)))

    ours_seconds = base_seconds = 0.0
    ours_events = base_events = 0
    payloads: list[list[Payload]] = []
    remaining = tickets
    while remaining > 0:
        n = min(chunk, remaining)
        remaining -= n
        gc.collect()
        made, spent = _timed(partial(ours, n))
        ours_seconds += spent
        payloads = stored_payloads(service, made)
        ours_events += sum(len(p) for p in payloads)
        gc.collect()
        stored, spent = _timed(partial(replay, baseline, payloads))
        base_seconds += spent
        base_events += stored

    with engine.db.transaction(immediate=False) as cur:
        sealed = int(cur.execute(f"SELECT COUNT(*) FROM {LEDGER}").fetchone()[0])
    same = same_payloads(baseline, payloads)
    rate = ours_events / ours_seconds if ours_seconds else 0.0
    base_rate = base_events / base_seconds if base_seconds else 0.0
    return {
        "backend": engine.config.kind,
        "tickets": tickets,
        "events": ours_events,
        "events_per_s": round(rate, 1),
        "baseline_events_per_s": round(base_rate, 1),
        "ratio": round(rate / base_rate, 3) if base_rate else 0.0,
        "seconds": round(ours_seconds, 3),
        "baseline_seconds": round(base_seconds, 3),
        "baseline_events": base_events,
        "sealed_events": sealed - warmup * EVENTS_PER_TICKET,
        "same_payloads": same,
        "chunk": chunk,
        "warmup": warmup,
    }


def _run_pair(ours_url: str, base_url: str, **opts: int) -> dict[str, Any]:
    engine = build_engine(ours_url)
    baseline = BaselineApp(env=bare_env(base_url))
    try:
        return measure(engine, baseline, **opts)
    finally:
        baseline.close()
        engine.close()
        del baseline, engine
        gc.collect()


def run_sqlite(tmpdir: str | None = None, **opts: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="rexian-bench-", dir=tmpdir) as tmp:
        return _run_pair(str(Path(tmp) / "ours.db"), str(Path(tmp) / "baseline.db"), **opts)


def run_postgres(tmpdir: str | None = None, **opts: int) -> dict[str, Any]:
    try:
        from tests.support.postgres import ThrowawayPostgres

        pg = ThrowawayPostgres(dbname="bench_ours").start()
    except Exception as exc:  # noqa: BLE001 - reported in the result, not fatal
        return {"backend": "postgres", "error": f"{type(exc).__name__}: {exc}"}
    try:
        base_url = pg.create_database("bench_baseline")
        return _run_pair(pg.url, base_url, **opts)
    finally:
        pg.stop()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench lifecycle",
                                     description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=None,
                        help="lifecycles per backend (default 500 sqlite, 300 postgres)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--chunk", type=int, default=50,
                        help="lifecycles per interleaved chunk (default 50)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="uncounted warm-up lifecycles per backend (default 10)")
    parser.add_argument("--tmpdir", default=None,
                        help="where the SQLite files go (default: the system temp dir; "
                             "/dev/shm takes fsync out and shows the CPU cost)")
    args = parser.parse_args(argv)
    if args.tickets is not None and args.tickets < 1:
        parser.error("--tickets must be >= 1")
    if args.chunk < 1 or args.warmup < 0:
        parser.error("--chunk must be >= 1 and --warmup >= 0")
    return args


def run(argv: list[str]) -> dict[str, Any]:
    args = parse_args(argv)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runners: dict[str, Callable[..., dict[str, Any]]] = {"sqlite": run_sqlite,
                                                         "postgres": run_postgres}
    result: dict[str, Any] = {}
    for backend in backends:
        tickets = args.tickets or DEFAULT_TICKETS[backend]
        result[backend] = runners[backend](tmpdir=args.tmpdir, tickets=tickets,
                                           chunk=min(args.chunk, tickets), warmup=args.warmup)
    return result
