"""The dispatch benchmark runs small and reports its shape (figures are for the README, not
asserted: the targets are measured by `python -m tools.bench dispatch`)."""

from __future__ import annotations

import json

from tools.bench_dispatch import run


def test_small_run_reports_accuracy_return_rates_latency_and_duplicates() -> None:
    result = run(["--orders", "1500"])
    accuracy = result["accuracy"]
    assert accuracy["held_out"] == 720 and accuracy["history_orders"] == 1584
    for key in ("top1", "top3", "rules_only_top1", "rules_only_top3",
                "return_rate_without_suggestions", "return_rate_with_suggestions"):
        assert 0.0 <= accuracy[key] <= 1.0, key
    assert accuracy["top1"] <= accuracy["top3"]
    assert {"kind dialect", "kind typo", "kind aside", "kind unseen_paraphrase",
            "kind region_dependent"} <= set(result)
    latency = result["latency"]
    assert latency["past_orders"] == 1500 and latency["requests_timed"] == 720
    assert 0 < latency["p50_ms"] <= latency["p99_ms"]
    assert {"precision", "recall"} <= set(result["duplicates"])
    json.dumps(result)
