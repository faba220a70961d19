"""The web console's dashboard first response (issue 11 item 6; target < 1 s).

`python -m tools.bench web [--orders 2000] [--json]`

ORDERS orders are registered (a third dispatched, then the simulated clock moved past their
提醒 instant and a tick taken, so the near-due list and the ladder are full) in a SQLite file
under var/, then a fresh
engine and console are started on that store, as `rexian serve --http` would be, and the
first GET /api/dashboard and the first GET / (the page) are timed over HTTP with a staff
token, against the first GET /api/me in the same run (authentication and HTTP alone: the
baseline). Result: {"orders", "dashboard_first_s", "page_first_s", "me_first_s",
"dashboard_warm_s", "ratio_dashboard_to_me", "load_before", "load_after"}.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from adapters.bootstrap import build_engine
from adapters.http.server import HttpServer
from adapters.ticker import tick
from domain.service import SHANGHAI
from domain.values import Actor
from tools.sim_clock import SimClock

AGENT, DISPATCHER = Actor("agent", "A1"), Actor("dispatcher", "D1")
UNITS = ("区城管局", "区水务局", "区市场监管局")


def _timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    response = client.get(path)
    response.raise_for_status()
    return time.perf_counter() - start


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench web")
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    Path("var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir="var") as tmp:
        db = str(Path(tmp) / "bench.db")
        clock = SimClock(datetime(2025, 10, 9, 9, 0, tzinfo=SHANGHAI))
        engine = build_engine(db, clock=clock)
        token = engine.access.issue(roles=["supervisor"], staff_id="bench",
                                    actor=Actor("admin", "bench"))["token"]
        for i in range(args.orders):
            no = engine.service.intake(channel="电话", category="投诉", urgency="一般",
                                       region="甬江区", content=f"诉求 {i}",
                                       caller_name="王五", caller_phone="13900001111",
                                       actor=AGENT)
            if i % 3 == 0:
                engine.service.dispatch(no, dept=UNITS[i % len(UNITS)], assist=[],
                                        actor=DISPATCHER)
        first = engine.list(state="已派单", limit=1)[0]["ticket_no"]
        warning = datetime.fromisoformat(engine.service.load(first).ladder["warning"])
        clock.now = warning + timedelta(minutes=1)
        tick(engine)
        engine.catch_up()
        engine.close()
        # A fresh process state: a new engine and console on the built store.
        engine = build_engine(db, clock=clock)
        server = HttpServer(engine, "127.0.0.1:0").start()
        try:
            with httpx.Client(base_url=server.url, timeout=60,
                              headers={"authorization": f"Bearer {token}"}) as client:
                me = _timed(client, "/api/me")
                dashboard = _timed(client, "/api/dashboard")
                page = _timed(client, "/")
                warm = min(_timed(client, "/api/dashboard") for _ in range(3))
        finally:
            server.stop()
            engine.close()
    return {"orders": args.orders, "dashboard_first_s": round(dashboard, 4),
            "page_first_s": round(page, 4), "me_first_s": round(me, 4),
            "dashboard_warm_s": round(warm, 4),
            "ratio_dashboard_to_me": round(dashboard / me, 2) if me else None,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}
