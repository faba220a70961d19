"""Deadline index benchmark: a tick's due-selection against a naive scan, same run.

`python -m tools.bench deadlines [--open N] [--due N] [--json]`

1. Build the deadline index (the `projections.deadline_index` table, created by its own
   `create_tables`, in a SQLite file in a temporary directory) for N open orders.
   Rows are synthetic and written straight to the table, but their ladders come from
   the real policy: `DeadlinePolicy.default()` computes due instants and ladders for a
   pool of (category, urgency, dispatch instant) clocks over the last weeks, recorded
   as the service records them (ISO instants in UTC), with the steps a ticker would
   already have taken (and some units' plans). Per row the build does what the
   projection does to place an order: `pending_ladder` on the recorded ladder for the
   next instant and step, then the INSERT; the JSON texts of ladder and steps taken
   are rendered once per clock state (orders on one clock share them). The timed
   build covers the policy work, the rows, the inserts and the next_at B-tree.
   Exactly `--due` rows have a step due at NOW; the others' next step is later (or,
   for the few orders already past level 3, none).
2. tick_s: the due-selection of a tick, `projections.deadline_index.due_tickets`
   (a range query on the next_at index).
3. full_scan_tick_s: the naive alternative, over every open order: read every row,
   compute its pending steps in Python from the stored ladder, keep the due ones.
   Both selections must find the same `--due` orders, or the run fails.

Result: {"open", "due", "index_build_per_s", "tick_s", "full_scan_tick_s",
"peak_rss_mb"}; index_build_per_s = open / build seconds; peak_rss_mb is this
process's peak resident set. Targets: tick_s < 1 and index_build_per_s >= 50,000 at
the defaults (1,000,000 open, 10,000 due).
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.sqldb import Cursor
from domain.policies.deadlines import DeadlinePolicy
from domain.service import SHANGHAI
from domain.workorder import LADDER_STEPS, pending_ladder
from projections.deadline_index import INDEX, DeadlineIndex, due_tickets

DEFAULT_OPEN = 1_000_000
DEFAULT_DUE = 10_000
NOW = datetime(2025, 11, 3, 12, 0, tzinfo=SHANGHAI)  # a Monday, well inside the calendar
HISTORY_DAYS = 45  # dispatch instants of the synthetic clocks: this many days before NOW
CHUNK = 10_000

# (ladder as recorded in the events, steps taken, plan reported, and the JSON text of
# the ladder and of the steps taken, as the index stores them)
Template = tuple[dict[str, str], list[str], bool, str, str]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench deadlines",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--open", type=int, default=DEFAULT_OPEN, help="open orders")
    parser.add_argument("--due", type=int, default=DEFAULT_DUE, help="orders due at NOW")
    args = parser.parse_args(argv)
    if args.open < 1 or not 0 <= args.due <= args.open:
        parser.error("need --open >= 1 and 0 <= --due <= --open")
    return args


def _recorded(ladder: Any) -> dict[str, str]:
    """A ladder as the service records it with a clock (see WorkOrderService._ladder)."""
    return {
        "warning": ladder.warning_at.astimezone(UTC).isoformat(),
        "level1": ladder.level1_at.astimezone(UTC).isoformat(),
        "level2": ladder.level2_at.astimezone(UTC).isoformat(),
        "level3": ladder.level3_at.astimezone(UTC).isoformat(),
    }


def templates(policy: DeadlinePolicy, now: datetime) -> tuple[list[Template], list[Template]]:
    """Clock states from the real policy, split into (due at `now`, not due at `now`).

    Not due: the ticker is up to date (every step whose instant has come is taken).
    Due: the ticker has not yet taken the latest step whose instant has come.
    Some units reported a plan after the warning (level 1 is then skipped).
    """
    due: list[Template] = []
    later: list[Template] = []
    finished = 0
    categories = list(policy.settings.handling_working_days)
    for days_ago in range(HISTORY_DAYS):
        for hour in (8, 10, 13, 16, 19):
            dispatched = (now - timedelta(days=days_ago)).replace(hour=hour, minute=7)
            if dispatched > now:
                continue
            for category in categories:
                for urgency in policy.settings.urgency_levels:
                    due_at = policy.handling_due(category, urgency, dispatched)
                    ladder = _recorded(policy.ladder(due_at, urgency))
                    ladder_json = json.dumps(ladder)
                    passed = [s for s in LADDER_STEPS
                              if datetime.fromisoformat(ladder[s]) <= now]
                    for has_plan in (False, True):
                        if has_plan and "warning" not in passed:
                            continue  # plans are reported after the warning
                        taken = [s for s in passed if not (has_plan and s == "level1")]
                        states = [taken] + ([taken[:-1]] if taken else [])
                        for done in states:
                            pending = pending_ladder(ladder, done, has_plan)
                            if not pending:
                                finished += 1
                                if finished % 20:
                                    continue  # few open orders are past level 3
                            pool = due if pending and pending[0][1] <= now else later
                            pool.append((ladder, done, has_plan, ladder_json, json.dumps(done)))
    if not due or not later:
        raise RuntimeError("synthetic clock pool lacks due or not-due states")
    return due, later


def _rows(n_open: int, n_due: int, due: list[Template], later: list[Template]
          ) -> Iterator[list[tuple[Any, ...]]]:
    """Index rows in chunks; per row, the next step comes from `pending_ladder` as in the
    projection (the JSON texts are rendered once per synthetic clock state)."""
    chunk: list[tuple[Any, ...]] = []
    for i in range(n_open):
        ladder, done, has_plan, ladder_json, done_json = (
            due[i % len(due)] if i < n_due else later[i % len(later)])
        ticket_no = f"B{i:011d}"
        # Synthetic ids (uuid5 of the ticket number would only add hashing to the build).
        originator_id = f"00000000-0000-4000-8000-{i:012x}"
        pending = pending_ladder(ladder, done, has_plan)
        next_at = pending[0][1].timestamp() if pending else None
        next_step = pending[0][0] if pending else None
        chunk.append((originator_id, ticket_no, next_at, next_step, ladder_json, done_json,
                      int(has_plan)))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # as the engine's side tables
    return conn


def build_index(path: Path, n_open: int, n_due: int, now: datetime) -> float:
    """Create the index table with the projection's schema and fill it; returns seconds
    (computing the synthetic clocks with the policy included)."""
    policy = DeadlinePolicy.default()  # loaded once per process, as in the engine
    conn = _connect(path)
    try:
        DeadlineIndex().create_tables(Cursor(conn.cursor(), postgres=False))
        insert = (f"INSERT INTO {INDEX} (originator_id, ticket_no, next_at, next_step, ladder, "
                  "done, has_plan) VALUES (?, ?, ?, ?, ?, ?, ?)")
        began = time.perf_counter()
        due, later = templates(policy, now)
        conn.execute("BEGIN")
        for chunk in _rows(n_open, n_due, due, later):
            conn.executemany(insert, chunk)
        conn.execute("COMMIT")
        return time.perf_counter() - began
    finally:
        conn.close()


def select_due(path: Path, now: datetime) -> tuple[list[str], float]:
    """A tick's due-selection through the index."""
    conn = _connect(path)
    try:
        began = time.perf_counter()
        found = due_tickets(Cursor(conn.cursor(), postgres=False), now.timestamp())
        return found, time.perf_counter() - began
    finally:
        conn.close()


def full_scan(path: Path, now: datetime) -> tuple[list[str], float]:
    """The naive due-selection: every open order's ladder, evaluated in Python."""
    conn = _connect(path)
    loads = json.loads
    try:
        began = time.perf_counter()
        found = []
        for ticket_no, ladder, done, has_plan in conn.execute(
                f"SELECT ticket_no, ladder, done, has_plan FROM {INDEX}"):
            pending = pending_ladder(loads(ladder), loads(done), bool(has_plan))
            if pending and pending[0][1] <= now:
                found.append(ticket_no)
        return found, time.perf_counter() - began
    finally:
        conn.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run(argv: list[str]) -> dict[str, Any]:
    args = _parse(argv)
    with tempfile.TemporaryDirectory(prefix="rexian-bench-deadlines-") as tmp:
        path = Path(tmp) / "index.db"
        build_s = build_index(path, args.open, args.due, NOW)
        due, tick_s = select_due(path, NOW)
        naive, full_s = full_scan(path, NOW)
    if len(due) != args.due or sorted(due) != sorted(naive):
        raise RuntimeError(f"due-selection disagrees: index {len(due)}, full scan "
                           f"{len(naive)}, expected {args.due}")
    return {
        "open": args.open,
        "due": len(due),
        "index_build_per_s": round(args.open / build_s, 1),
        "tick_s": round(tick_s, 6),
        "full_scan_tick_s": round(full_s, 6),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(run(sys.argv[1:]), ensure_ascii=False))
