"""Two real engine processes ticking one store at the same moment: each step exactly once.

Two worker processes run the real CLI, `rexian --db URL --now T tick --json`, once per
round. To make them really overlap, each worker imports everything and loads the policy
first, then per round reports `ready i` and waits for a start file; the test creates it
once both are ready, and both run the CLI's tick at once (engine build, index catch-up,
escalations). This module doubles as the worker:
`python -m tests.test_tick_concurrency GO_DIR DB NOW...`.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from domain.workorder import LADDER_STEPS
from projections.deadline_index import due_tickets
from tests.conftest import SimClock
from tests.support.procs import PythonProcess
from tests.test_ladder import UNIT, new_order, unit

ROOT = Path(__file__).resolve().parents[1]
ORDERS = 30
PLANNED = 5  # these report a plan in time: no level 1 for them
# (--now, expected counts summed over both processes)
ROUNDS: list[tuple[str, dict[str, int]]] = [
    ("2025-10-10T00:00:00", {"warning": ORDERS}),
    ("2025-10-10T18:00:00", {"level1": ORDERS - PLANNED}),
    ("2025-10-10T23:59:59", {"level2": ORDERS}),
    ("2025-10-16T23:59:59", {"level3": ORDERS}),
    ("2025-10-17T09:00:00", {}),  # everything already done: nothing twice
]


def worker(argv: list[str]) -> int:
    """`GO_DIR DB NOW...`: per round i, report `ready i`, wait for GO_DIR/go-i, then run
    the real CLI `rexian --db DB --now NOW tick --json` (a fresh engine each time)."""
    go_dir, db, instants = Path(argv[0]), argv[1], argv[2:]
    from domain.policies.deadlines import DeadlinePolicy
    from tools import cli

    DeadlinePolicy.default()  # build the working-day calendar before the start line
    for i, now in enumerate(instants):
        print(f"ready {i}", flush=True)
        deadline = time.monotonic() + 60
        while not (go_dir / f"go-{i}").exists():
            if time.monotonic() > deadline:
                print(f"exit {i} timeout", flush=True)
                return 3
            time.sleep(0.001)
        sys.argv = ["rexian", "--db", db, "--now", now, "tick", "--json"]
        code: Any = 0
        try:
            cli.main()
        except SystemExit as done:
            code = done.code
        print(f"\nexit {i} {code}", flush=True)
    return 0


def tick_rounds(db: str, instants: list[str], go_dir: Path) -> list[list[dict[str, int]]]:
    """Both processes tick each instant at the same moment; their counts per round."""
    go_dir.mkdir()
    args = [str(go_dir), db, *instants]
    procs = [PythonProcess("tests.test_tick_concurrency", *args, cwd=str(ROOT),
                           env={"REXIAN_SIMULATION": "1"}) for _ in range(2)]
    try:
        rounds = []
        for i in range(len(instants)):
            for p in procs:
                p.wait_for_line(rf"^ready {i}$", timeout=60)
            (go_dir / f"go-{i}").touch()
            results = []
            for p in procs:
                p.wait_for_line(rf"^exit {i} ", timeout=60)
                assert p.lines[-1] == f"exit {i} 0", p.output()
                text = "\n".join(p.lines[p.lines.index(f"ready {i}") + 1:-1])
                results.append(json.loads(text))
            rounds.append(results)
        return rounds
    finally:
        for p in procs:
            p.kill()


def escalations(engine: Engine) -> Counter[tuple[Any, str]]:
    """(order, step) -> how many Escalated events the store holds for it."""
    counts: Counter[tuple[Any, str]] = Counter()
    for n in engine.service.recorder.select_notifications(start=1, limit=1_000_000):
        if n.topic.endswith("Escalated"):
            event: Any = engine.service.mapper.to_domain_event(n)
            counts[(event.originator_id, event.step)] += 1
    return counts


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_two_engine_processes_take_every_step_exactly_once(
    store: str, request: pytest.FixtureRequest, tmp_path: Path, clock: SimClock
) -> None:
    if store == "sqlite":
        db = str(tmp_path / "rexian.db")
    else:
        pg = request.getfixturevalue("postgres")
        db = pg.create_database(f"tickrace_{uuid.uuid4().hex[:12]}")
    engine = build_engine(db, clock=clock)
    try:
        tickets = [new_order(engine, clock) for _ in range(ORDERS)]  # all due 10-10
        clock.set("2025-10-10T10:00:00")
        for ticket in tickets[:PLANNED]:
            engine.service.report_plan(ticket, dept=UNIT, eta=clock.now, note="已安排",
                                       actor=unit())
        rounds = tick_rounds(db, [now for now, _ in ROUNDS], tmp_path / "go")
        split = 0
        for (now, expected), results in zip(ROUNDS, rounds, strict=True):
            total = Counter[str]()
            for counts in results:
                assert set(counts) == {*LADDER_STEPS, "revised", "erased"}
                assert counts["revised"] == 0
                total.update(counts)
            assert {k: v for k, v in total.items() if v} == expected, (now, results)
            split += all(sum(c.values()) for c in results)

        taken = escalations(engine)
        ids = {engine.service.load(t).id: t for t in tickets}
        assert {oid for oid, _ in taken} == set(ids)
        assert all(n == 1 for n in taken.values()), taken
        assert len(taken) == ORDERS * 4 - PLANNED
        for ticket in tickets:
            view = engine.service.show(ticket)
            assert view["escalation_level"] == 3
            assert view["flags"].count("超期") == 1
            assert len(view["supervision_orders"]) == 1
        calls = sum(engine.service.load(t).calls_requested for t in tickets)
        assert calls == ORDERS * 2 + (ORDERS - PLANNED)
        # The deadline index agrees: no order has a step left.
        engine.runners["deadline_index"].catch_up()
        with engine.db.transaction(immediate=False) as cur:
            assert due_tickets(cur, float("inf")) == []
        # Two processes sealed into one audit ledger at once: its chain is unbroken (each
        # insert read the last chain hash under the events table lock).
        assert engine.verify().ok
        # Not asserted (timing-dependent), but shows the processes did race:
        print(f"{store}: rounds where both processes took steps: {split}")
    finally:
        engine.close()


if __name__ == "__main__":
    sys.exit(worker(sys.argv[1:]))
