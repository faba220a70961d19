"""`python -m adapters.follower --db URL`: a projection follower process (see
projections/follower.py for the loop and its gap-freedom argument).

Scale-out: the `rexian serve` workers write events and catch their read models up when a
command needs them (list, tick); followers keep every read model current in between, woken
by PostgreSQL LISTEN/NOTIFY on the event table's channel (eventsourcing notifies inside the
insert transaction, so the ring comes at commit). Run one or two per database: more add
no throughput (each batch is applied once, under the tracking-row lock), only standbys.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from adapters.bootstrap import Engine, build_engine
from projections.follower import Follower, Wait, poll_only
from projections.runner import ProjectionRunner

FEED = "department_feed"


def all_runners(engine: Engine) -> dict[str, ProjectionRunner]:
    """The engine's read models and the department feed (served by `serve --grpc`)."""
    from adapters.grpc.feed import DepartmentFeedProjection

    found = dict(engine.runners)
    found[FEED] = ProjectionRunner(engine.service, engine.db, DepartmentFeedProjection())
    return found


def doorbell(engine: Engine, stop: threading.Event) -> tuple[Wait, Any]:
    """LISTEN on the event table's channel (PostgreSQL), else plain polling. Returns the
    wait function and the listener to close (or None)."""
    recorder: Any = engine.service.recorder
    if engine.config.kind != "postgres":
        return poll_only(stop), None
    if getattr(recorder.datastore, "enable_db_functions", False):
        # The library's insert function does not take the table lock: ids could commit
        # out of order and a follower could pass over one (see projections/follower.py).
        raise SystemExit("follower: POSTGRES_ENABLE_DB_FUNCTIONS voids gap-free following")
    from adapters.pg_listen import PgListener

    listener = PgListener(engine.config, recorder.channel_name)
    return listener.wait, listener


def follow_store(engine: Engine, names: Sequence[str], stop: threading.Event,
                 interval: float = 1.0, verbose: bool = False) -> tuple[Follower, Any]:
    """A follower of `names` (all when empty) and its listener (None: polling) to close."""
    runners = all_runners(engine)
    unknown = [n for n in names if n not in runners]
    if unknown:
        raise SystemExit(f"follower: unknown projections {unknown}; known: {sorted(runners)}")
    chosen = [runners[n] for n in names] if names else list(runners.values())
    wait, listener = doorbell(engine, stop)

    def applied(name: str, count: int) -> None:
        if verbose:
            print(f"follower applied {count} to {name}", flush=True)

    return Follower(chosen, wait, interval, on_applied=applied), listener


def follow_until(follower: Follower, listener: Any, stop: threading.Event) -> None:
    """Run the follower until `stop` is set, then release its listener."""
    try:
        follower.run(stop)
    finally:
        if listener is not None:
            listener.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m adapters.follower",
        description="Keep read models current from the event log (LISTEN/NOTIFY on "
                    "PostgreSQL, polling on SQLite).")
    parser.add_argument("--db", default=None, help="Store URL (default: REXIAN_DB)")
    parser.add_argument("--projection", action="append", default=[],
                        help="Follow only this projection (repeatable; default: all)")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="Seconds between polls when no notification arrives")
    parser.add_argument("--verbose", action="store_true", help="Print a line per batch")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def request_stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    engine = build_engine(args.db)
    try:
        follower, listener = follow_store(engine, args.projection, stop, args.interval,
                                          args.verbose)
        names = ",".join(r.projection.name for r in follower.runners)
        kind = "listen" if listener is not None else "poll"
        print(f"follower ready projections={names} wake={kind} db={engine.config.display}",
              flush=True)
        follow_until(follower, listener, stop)
        print(f"follower stopped applied={follower.applied}", flush=True)
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
