"""The report benchmark: its scaled fact table stands for exact copies of the real orders
(every figure multiplied), and a small run reports its shape (no timing assertions)."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

from adapters.bootstrap import build_engine
from adapters.reports import build_report
from domain.service import SHANGHAI
from tools.bench_report import lifecycle, run, scale_facts
from tools.sim_clock import SimClock

WHOLE = (date(2024, 12, 1), date(2026, 12, 31))


def figures(report: dict) -> dict[tuple[str, str], tuple[int, int]]:
    return {(row["group"], name): (f["numerator"], f["denominator"])
            for row in report["rows"] for name, f in row["kpis"].items()}


def test_scaled_facts_are_copies_of_the_real_orders(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    clock = SimClock(datetime(2025, 1, 2, 9, 0, tzinfo=SHANGHAI))
    engine = build_engine(db, clock=clock)
    for i in range(40):
        lifecycle(engine, clock, i)
    before = {by: figures(build_report(engine, *WHOLE, by)) for by in (None, "dept")}
    engine.close()
    assert before[None][("全部", "reopen_rate")][0] > 0  # the mix reaches reopens
    assert scale_facts(db, 40, 200) == 200
    engine = build_engine(db, clock=clock)
    try:
        for by in (None, "dept"):
            after = figures(build_report(engine, *WHOLE, by))
            assert after == {key: (n * 5, d * 5) for key, (n, d) in before[by].items()}
    finally:
        engine.close()


def test_small_run_reports_its_shape() -> None:
    result = run(["--orders", "30", "--scale", "3000"])
    assert result["scaled_orders"] == 3000 and result["scanned_events"] == result["events"]
    assert result["june_orders"] > 0
    assert result["build_orders_per_s"] > 0
    for key in ("month_s", "month_by_dept_s", "year_by_dept_s", "panels_s", "scan_scaled_s"):
        assert isinstance(result[key], float) and result[key] >= 0, key
    json.dumps(result)
