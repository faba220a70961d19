"""The knowledge-base benchmark on a small base and question set (no accuracy asserted here:
the figures are the benchmark's)."""

from __future__ import annotations

from pathlib import Path

from tools.bench_kb import run

SAMPLE = Path(__file__).parent / "fixtures" / "kb" / "sample.md"


def test_small_run_counts_right_wrong_and_refusals(tmp_path: Path) -> None:
    questions = tmp_path / "q.csv"
    questions.write_text("question,key,split\n外地看病要先备案吗,KB-YB-001,heldout\n"
                         "身份证掉了咋补,KB-HJ-001,heldout\n楼下太吵了,NONE,heldout\n"
                         "门诊报多少,KB-YB-002,train\n", encoding="utf-8")
    result = run(["--kb", str(SAMPLE), "--questions", str(questions)])
    assert (result["questions"], result["answerable"], result["unanswerable"]) == (3, 2, 1)
    assert result["articles"] == 5 and result["valid_articles"] == 4  # one expired
    for key in ("recall_at_1", "recall_at_5", "answered_right", "answered_wrong",
                "none_refused"):
        assert 0.0 <= result[key] <= 1.0, key
    assert result["recall_at_5"] >= result["recall_at_1"]
