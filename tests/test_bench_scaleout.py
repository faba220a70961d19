"""The scale-out benchmark runs small (two real `rexian serve` workers on a throwaway
PostgreSQL, the LISTEN follower, gRPC drivers) and reports its shape; the figures are for
the README and docs/deployment.md, not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tools.bench_scaleout import run


def test_small_run_loses_nothing_and_reports_latency_per_command() -> None:
    kek = os.environ.get("REXIAN_KEK_FILE")
    result = run(["--workers", "2", "--seconds", "2", "--clients", "4"])
    # The run's key file lives in its temporary directory: the session's key is back.
    assert os.environ.get("REXIAN_KEK_FILE") == kek
    [row] = result["rows"]
    assert row["workers"] == 2 and row["clients"] == 4
    assert row["errors"] == {}
    assert row["commands_per_s"] > 0 and row["events"] > 0
    # The follower applied every position of the log exactly once.
    assert row["skipped"] == 0 and row["duplicated"] == 0
    assert 0 < row["p50_ms"] <= row["p99_ms"]
    assert set(row["by_command"]) == {"intake", "dispatch"}
    for latency in row["by_command"].values():
        assert 0 < latency["p50_ms"] <= latency["p99_ms"]
    assert result["postgres"].startswith("throwaway cluster")
    json.dumps(result)


def test_bad_worker_counts_are_refused_in_both_languages() -> None:
    for bad in ("0", "x", "2,-1", ","):
        done = subprocess.run([sys.executable, "-m", "tools.bench", "scaleout", "--workers", bad],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (bad, done.stderr)
        assert "正整数" in done.stderr and "positive whole numbers" in done.stderr, bad
        assert "Traceback" not in done.stderr
