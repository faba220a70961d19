"""The lifecycle benchmark runs end to end on a tiny N (shape and counts, never timings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import bench
from tools.bench_lifecycle import run

ROW_KEYS = {"tickets", "events", "events_per_s", "baseline_events_per_s", "ratio", "backend"}
N = 10


@pytest.fixture(scope="module")
def result() -> dict:
    return run(["--tickets", str(N), "--backend", "sqlite", "--chunk", "4", "--warmup", "1"])


def test_shape_and_counts(result: dict) -> None:
    assert set(result) == {"sqlite"}
    row = result["sqlite"]
    assert ROW_KEYS <= set(row)
    assert row["backend"] == "sqlite"
    assert row["tickets"] == N
    assert row["events"] == 5 * N  # intake, dispatch, sign, resolve, callback-archive
    assert row["baseline_events"] == row["events"]  # the baseline stored the same events
    assert row["sealed_events"] == row["events"]  # every event reached the audit ledger
    assert row["same_payloads"] is True
    for key in ("events_per_s", "baseline_events_per_s", "ratio"):
        assert isinstance(row[key], float) and row[key] > 0
    json.dumps(result)  # JSON-ready


def test_dispatcher_prints_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = bench.main(["lifecycle", "--tickets", "2", "--backend", "sqlite", "--warmup", "0",
                       "--tmpdir", str(tmp_path), "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sqlite"]["events"] == 10


def test_dispatcher_table_and_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    table = bench.render({"sqlite": {"backend": "sqlite", "ratio": 0.95}})
    assert "ratio" in table and "0.950" in table
    assert bench.main(["no_such_bench"]) == 2
    assert "unknown benchmark" in capsys.readouterr().err
    assert "lifecycle" in bench.available()
