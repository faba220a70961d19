"""The department-feed benchmark runs small in both modes and reports its shape (the
figures are for the README, not asserted: `python -m tools.bench feed` measures them)."""

from __future__ import annotations

import json

import pytest

from tools.bench_feed import run


@pytest.mark.parametrize("mode", ["processes", "inprocess"])
def test_small_run_delivers_every_dispatch_and_reports_where_the_load_sits(mode: str) -> None:
    result = run(["--mode", mode, "--rate", "40", "--seconds", "1", "--senders", "4",
                  "--burst-orders", "20", "--burst-threads", "2"])
    latency, throughput = result["latency"], result["throughput"]
    assert latency["mode"] == mode
    assert latency["dispatches"] == 40 and latency["received"] == 40 and latency["lost"] == 0
    assert 0 <= latency["command_p50_ms"] <= latency["command_p99_ms"]
    assert 0 <= latency["feed_lag_p50_ms"] <= latency["feed_lag_p99_ms"]
    assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
    assert latency["server_cpu_ms_per_dispatch"] > 0
    # The clients' CPU is measured apart only when they run in processes of their own.
    assert (latency["client_cpu_ms_per_dispatch"] is not None) == (mode == "processes")
    assert len(latency["load_before"]) == 3 and len(latency["load_after"]) == 3
    assert throughput["live_events"] == 20
    # Every Dispatched event of the three runs (warm-up, timed, burst) is in the unit's feed.
    assert throughput["catchup_events"] == 20 + 40 + 20
    json.dumps(result)
