"""KPI reports at scale (issue 11 item 6): the KPI projection's build rate, a month's report
over 1,000,000 orders (target < 2 s) against a full scan of the events, and the 总览's
first response on that store (target < 1 s).

`python -m tools.bench report [--orders 2000] [--scale 1000000] [--json]`

1. ORDERS real orders go through the service into a SQLite file under var/, with a mix of
   lifecycles (direct answers; dispatched, signed, resolved on time or late; returns and
   re-dispatches; callbacks of each result; reopens). The KPI projection is rebuilt from
   their log: `build_orders_per_s`, `build_events_per_s`.
2. The baseline: one full scan of the same log (read and decode every event, computing
   nothing: a lower bound for any report that scans events) — `scan_s`, and that time per
   order scaled to SCALE orders, `scan_scaled_s` (extrapolated, linear: the scan reads
   each event once).
3. SCALE orders' facts: the real orders' fact rows copied SCALE / ORDERS times, each copy's
   days shifted so the orders spread evenly over one year (as a centre taking ~2,700 calls
   a day would have them), under fresh positions and ids, and the daily rollup recomputed
   from them (projections/kpi_facts.rollup_rows). The store then holds the facts and
   rollup of SCALE orders, as if the projection had written them. Timed on it, each as a first
   call on a fresh engine: a month's report overall (`month_s`) and by unit
   (`month_by_dept_s`), the whole year by unit (`year_by_dept_s`), and the 总览's KPI
   panels (`panels_s`, every report the dashboard draws). `ratio_month_to_scan` =
   month_s / scan_scaled_s.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from adapters.bootstrap import Engine, build_engine
from adapters.http.panels import report_panels
from adapters.reports import build_report
from domain.service import SHANGHAI
from domain.values import Actor
from projections.kpi_facts import DAILY, FACTS, rollup_rows
from tools.sim_clock import SimClock

T = TypeVar("T")
AGENT, DISPATCHER = Actor("agent", "A1"), Actor("dispatcher", "D1")
UNITS = ("区城管局", "区水务局", "区市场监管局", "区住建局")
CHANNELS = ("电话", "网站", "微信")
CATEGORIES = ("投诉", "求助", "建议")
START = datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI)
COLUMNS = "kind, day, dept, category, region, channel, on_time, originator_id"


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    began = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - began


def lifecycle(engine: Engine, clock: SimClock, i: int) -> None:
    """One order's life, one of a few shapes chosen by `i`."""
    s = engine.service
    unit = Actor("department", UNITS[i % len(UNITS)])
    shape = i % 10
    category = "咨询" if shape == 0 else CATEGORIES[i % len(CATEGORIES)]  # answered: 咨询
    no = s.intake(channel=CHANNELS[i % 3], category=category, urgency="一般",
                  region="甬江区", content=f"诉求 {i}", caller_name="王五",
                  caller_phone="13900001111", actor=AGENT)
    if shape == 0:
        s.answer(no, reply="已当场答复", actor=AGENT)
        s.record_callback(no, result="满意", comment="", actor=AGENT)
        return
    if shape == 9:
        return  # still waiting for dispatch
    dept = unit.id
    if shape == 8:  # returned and re-dispatched
        s.dispatch(no, dept=UNITS[(i + 1) % len(UNITS)], assist=[], actor=DISPATCHER)
        s.return_order(no, dept=UNITS[(i + 1) % len(UNITS)], reason="非本单位职责",
                       actor=Actor("department", UNITS[(i + 1) % len(UNITS)]))
        s.redispatch(no, dept=dept, assist=[], reason="改派", actor=DISPATCHER)
    else:
        s.dispatch(no, dept=dept, assist=[], actor=DISPATCHER)
    if shape == 7:
        return  # not signed yet
    s.sign(no, dept=dept, actor=unit)
    s.resolve(no, dept=dept, reply="已处理", actor=unit)
    result = ("满意", "满意", "基本满意", "不满意", "无法联系", "满意")[shape % 6]
    s.record_callback(no, result=result, comment="", actor=AGENT)
    if result == "不满意":
        s.resolve(no, dept=dept, reply="已再次处理", actor=unit)


def full_scan(engine: Engine) -> int:
    """Read and decode every stored event once (what a report without facts must do)."""
    recorder, mapper = engine.service.recorder, engine.service.mapper
    start, count = 0, 0
    while True:
        batch = recorder.select_notifications(start=start, limit=1000,
                                              inclusive_of_start=False)
        if not batch:
            return count
        for notification in batch:
            mapper.to_domain_event(notification)
        count += len(batch)
        start = batch[-1].id


def scale_facts(db: str, orders: int, scale: int) -> int:
    """Copy the real orders' facts until they stand for `scale` orders over one year."""
    copies = max(1, scale // orders)
    with sqlite3.connect(db) as conn:
        rows = conn.execute(f"SELECT {COLUMNS} FROM {FACTS}").fetchall()
        base = int(conn.execute(f"SELECT COALESCE(MAX(position), 0) FROM {FACTS}"
                                ).fetchone()[0]) + 1
        position = base
        for copy in range(1, copies):
            shift = timedelta(days=copy * 365 // copies)
            batch = []
            for kind, day, dept, category, region, channel, on_time, oid in rows:
                shifted = (date.fromisoformat(day) + shift).isoformat()
                batch.append((position, kind, shifted, dept, category, region, channel,
                              on_time, f"{oid}~{copy}"))
                position += 1
            conn.executemany(f"INSERT INTO {FACTS} (position, {COLUMNS}) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        conn.execute(f"DELETE FROM {DAILY}")
        conn.executemany(f"INSERT INTO {DAILY} (grouping, value, day, kind, on_time, n) "
                         "VALUES (?, ?, ?, ?, ?, ?)", rollup_rows(conn.cursor()))
        conn.execute("ANALYZE")
    return copies * orders


def run(argv: list[str]) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m tools.bench report")
    parser.add_argument("--orders", type=int, default=2000, help="real orders (default 2000)")
    parser.add_argument("--scale", type=int, default=1_000_000,
                        help="orders the fact table stands for (default 1,000,000)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    Path("var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir="var") as tmp:
        db = str(Path(tmp) / "bench.db")
        clock = SimClock(START)
        engine = build_engine(db, clock=clock)
        for i in range(args.orders):
            lifecycle(engine, clock, i)
            if i % 10 == 9:
                clock.now += timedelta(hours=7)  # orders spread over the days
        events = engine.service.recorder.max_notification_id() or 0
        _, build_s = _timed(engine.runners["kpi_facts"].rebuild)
        scanned, scan_s = _timed(lambda: full_scan(engine))
        engine.catch_up()
        engine.close()
        scaled, fill_s = _timed(lambda: scale_facts(db, args.orders, args.scale))

        def first_call(fn: Callable[[Engine], Any]) -> float:
            fresh = build_engine(db, clock=clock)
            try:
                fresh.runners["kpi_facts"].catch_up()
                return _timed(lambda: fn(fresh))[1]
            finally:
                fresh.close()

        june, june_end, year_end = date(2025, 6, 1), date(2025, 6, 30), date(2025, 12, 31)
        month_s = first_call(lambda e: build_report(e, june, june_end, None))
        month_dept_s = first_call(lambda e: build_report(e, june, june_end, "dept"))
        year_s = first_call(lambda e: build_report(e, date(2025, 1, 1), year_end, "dept"))
        clock.now = datetime(2025, 6, 30, 17, 0, tzinfo=SHANGHAI)
        panels_s = first_call(report_panels)
        with sqlite3.connect(db) as conn:
            facts = int(conn.execute(f"SELECT COUNT(*) FROM {FACTS}").fetchone()[0])
            in_june = int(conn.execute(
                f"SELECT COUNT(*) FROM {FACTS} WHERE day >= ? AND day <= ? AND kind = ?",
                (june.isoformat(), june_end.isoformat(), "registered")).fetchone()[0])
    scan_scaled = scan_s / args.orders * scaled
    return {
        "orders": args.orders, "events": events, "scanned_events": scanned,
        "build_s": round(build_s, 3),
        "build_orders_per_s": round(args.orders / build_s),
        "build_events_per_s": round(events / build_s),
        "scan_s": round(scan_s, 3), "scaled_orders": scaled, "facts": facts,
        "june_orders": in_june, "fill_s": round(fill_s, 1),
        "scan_scaled_s": round(scan_scaled, 1),
        "month_s": round(month_s, 4), "month_by_dept_s": round(month_dept_s, 4),
        "year_by_dept_s": round(year_s, 4), "panels_s": round(panels_s, 4),
        "ratio_month_to_scan": round(month_s / scan_scaled, 5),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()]}
