"""A tick's due steps: batched (how `tick` takes them) against one save per step, same run.

`python -m tools.bench tick [--steps 1000] [--chunk 100] [--json]`

2 x STEPS orders are registered and dispatched at one simulated instant in a SQLite file
under var/ (on disk), and the clock is moved to their 临期提醒 (warning) instant, so each
order has exactly one step due. Half the orders are escalated as `tick` does it
(`WorkOrderService.escalate_all_due`: decided one by one, committed together through
GroupCommit.commit_all), the other half one save per step (`escalate_due`, a transaction
each: how tick worked before), interleaved in chunks so machine noise hits both alike.

Result: {"steps", "batched_steps_per_s", "one_by_one_steps_per_s", "ratio",
"seconds_per_1000_steps", "transactions" (of the batched half), "load_before", "load_after"}; ratio = batched /
one-by-one; issue 15's target is 1,000 due steps in < 0.5 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.bootstrap import build_engine
from domain.service import SHANGHAI
from domain.values import Actor
from tools.sim_clock import SimClock

AGENT, DISPATCHER = Actor("agent", "A1"), Actor("dispatcher", "D1")


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench tick")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    var = Path(__file__).resolve().parent.parent / "var"
    var.mkdir(exist_ok=True)
    clock = SimClock(datetime(2025, 10, 9, 9, 0, tzinfo=SHANGHAI))
    with tempfile.TemporaryDirectory(prefix="rexian-bench-tick-", dir=var) as tmp:
        engine = build_engine(str(Path(tmp) / "tick.db"), clock=clock)
        try:
            service = engine.service
            tickets = []
            for i in range(2 * args.steps):
                ticket = service.intake(channel="电话", category="投诉", urgency="一般",
                                        region="甬江区东湖街道", content="小区夜间施工噪音",
                                        caller_name="张三", caller_phone=f"139{i:08d}",
                                        actor=AGENT)
                service.dispatch(ticket, dept="区城管局", assist=[], actor=DISPATCHER)
                tickets.append(ticket)
            warning = max(datetime.fromisoformat(service.load(t).ladder["warning"])
                          for t in tickets[:1])
            clock.now = warning + timedelta(minutes=1)
            batched, single = tickets[:args.steps], tickets[args.steps:]
            batched_s = single_s = 0.0
            transactions = taken = 0
            for start in range(0, args.steps, args.chunk):
                began, before = time.perf_counter(), service.group_commit.batches
                result = service.escalate_all_due(batched[start:start + args.chunk])
                batched_s += time.perf_counter() - began
                transactions += service.group_commit.batches - before
                taken += sum(len(steps) for steps in result.values())
                began = time.perf_counter()
                for ticket in single[start:start + args.chunk]:
                    taken += len(service.escalate_due(ticket))
                single_s += time.perf_counter() - began
        finally:
            engine.close()
    if taken != 2 * args.steps:
        raise RuntimeError(f"expected one due step per order, took {taken}")
    return {"steps": args.steps, "batched_steps_per_s": round(args.steps / batched_s, 1),
            "one_by_one_steps_per_s": round(args.steps / single_s, 1),
            "ratio": round(single_s / batched_s, 2),
            "seconds_per_1000_steps": round(batched_s * 1000 / args.steps, 3),
            "transactions": transactions, "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}
