"""`python -m tools.bench cli`: the start-up benchmark runs and reports what it promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_cli_benchmark_reports_medians_ratios_and_load() -> None:
    done = subprocess.run([sys.executable, "-m", "tools.bench", "cli", "--reps", "1", "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    for case in ("python_pass", "rexian_help", "rexian_show", "rexian_show_json"):
        row = result[case]
        assert 0 < row["min_s"] <= row["median_s"] <= row["max_s"]
        assert row["ratio_to_python"] >= 1 or case == "python_pass"
    assert result["python_pass"]["ratio_to_python"] == 1.0
    summary = result["summary"]
    assert summary["reps"] == 1 and summary["store"] == "sqlite"
    assert len(summary["load_before"]) == 3 and len(summary["load_after"]) == 3
    assert summary["show_meets_target"] == (result["rexian_show"]["median_s"] <= 0.25)
    listed = subprocess.run([sys.executable, "-m", "tools.bench", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert "cli" in listed.stdout.split("benchmarks: ", 1)[1].split(", ")
