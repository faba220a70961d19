"""`python -m tools.bench campaign` at a small size: a survey campaign of a few contacts over
real loopback WebRTC and whisper.cpp runs to its end, reports its figures, and every
completed call recorded what the simulated citizen said (read from the store's events)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tools.bench_campaign import BEHAVIOURS, MIX, RETRIED_AS, population

REPO = Path(__file__).resolve().parent.parent
# Seed 4's first six: Q.850 54 停机, three people (one branching to the follow-up question),
# a line busy three times (the shared budget: two retries), SIP 404 空号. No carrier
# announcement: tests/test_campaign_outcomes.py covers those.
CONTACTS, SEED = 6, 4
FIELDS = ("contacts", "lines", "completed", "correct", "wall_s", "calls_per_min",
          "cpu_s_per_call", "p95_result_s", "peak_rss_mb")


def test_the_population_is_a_realistic_mix_and_retries_within_the_budget() -> None:
    people = population(2000, 1, None, retries=2)
    first = [p.calls[0] for p in people]
    for kind, share in MIX:
        assert abs(first.count(kind) / len(people) - share) < 0.03, kind
    assert all(len(p.calls) <= 3 for p in people)  # the shared budget: 2 retries
    for person in people:  # a retried number answers later, or does the same again
        assert all(k in ("person", RETRIED_AS[person.calls[0]]) for k in person.calls[1:])
        assert "person" not in person.calls[:-1]  # reached: no more calls
    assert {BEHAVIOURS[p.calls[-1]][1] for p in people} >= {"已接通", "未接通", "空号", "停机", "关机",
                                                           "拒接"}


def test_small_survey_campaign_completes_and_every_completed_call_is_correct(
        tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "tools.bench", "campaign", "--contacts",
                           str(CONTACTS), "--lines", "3", "--seed", str(SEED), "--tmpdir", str(tmp_path), "--json"],
                          cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    for name in FIELDS:
        assert name in result, name
    assert (result["contacts"], result["lines"], result["kind"]) == (CONTACTS, 3, "survey")
    assert result["finished"] and result["status"]["state"] == "已完成"
    assert result["outcomes_correct"] == CONTACTS, result["failures"]
    assert result["called_twice"] == 0 and result["unfinished"] == 0
    assert 0 < result["completed"] <= result["reached"]
    assert result["correct"] == result["completed"], result["failures"]
    assert result["dialled"] >= CONTACTS and result["status"]["dialled"] == result["dialled"]
    assert result["wall_s"] > 0 and result["cpu_s_per_call"] > 0 and result["peak_rss_mb"] > 0
    assert result["p95_result_s"] is not None and result["p95_result_s"] >= 0
    breakdown = result["cpu_breakdown_s"]
    assert breakdown["asr_whisper"] > 0 and breakdown["gateway_process"] > 0
    # The read model's answer distribution counts every completed contact's answers.
    first_question = result["status"]["answers"]["q1"]
    assert sum(first_question.values()) >= result["completed"]
