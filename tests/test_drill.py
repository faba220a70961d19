"""`rexian drill callback`: the whole loop in one process, on a throwaway store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tools.cli import app

AUDIO = Path(__file__).resolve().parent / "fixtures" / "audio"


def drill(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["drill", "callback", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


def test_drill_dissatisfied_answer_reopens_the_order() -> None:
    code, out = drill("--answer", str(AUDIO / "not_very_satisfied_1.wav"), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["dial_outcome"] == "answered"
    assert report["intent"] == "不满意" and report["result"] == "不满意"
    assert report["transcript"] == report["turns"][0]["transcript"]
    show = report["show"]
    assert (show["state"], show["reopen_count"]) == ("办理中", 1)
    assert show["callback"]["result"] == "不满意"
    assert [a["outcome"] for a in show["call_attempts"]] == ["answered"]
    assert report["prompts_played"][0] == "greet_callback"
    assert report["callback_scheduled_at"] is not None


def test_drill_suspended_number_is_unreachable_at_once() -> None:
    code, out = drill("--answer", str(AUDIO / "satisfied_1.wav"), "--outcome", "停机",
                      "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["dial_outcome"] == "停机" and report["result"] == "无法联系"
    assert "停机" in report["show"]["flags"] and report["show"]["state"] == "已归档"


def test_drill_refuses_bad_input() -> None:
    code, out = drill("--answer", "/nonexistent.wav", "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "answer"
    code, out = drill("--answer", str(AUDIO / "satisfied_1.wav"), "--outcome", "ringing",
                      "--json")
    assert code == 2 and json.loads(out)["error"]["field"] == "outcome"
